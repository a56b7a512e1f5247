package dwarf_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rules-btf/rules_btf/converter/dwarf"
)

func TestOps(t *testing.T) {
	_, d := open(t, filepath.Join("..", "encode", "testdata", "types.dwarf5.o"))
	r := d.NewReader()
	if err := r.Reset(&d.Units()[0]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		expr []byte
		want []dwarf.Op // nil: an error
	}{
		{"reg5", []byte{0x55}, []dwarf.Op{{Code: 0x55}}},
		{"breg5 -1, stack_value", []byte{0x75, 0x7f, 0x9f}, []dwarf.Op{{Code: 0x75, Arg1: ^uint64(0)}, {Code: 0x9f}}},
		{"entry_value(reg4), stack_value", []byte{0xa3, 0x01, 0x54, 0x9f},
			[]dwarf.Op{{Code: 0xa3, Arg1: 1, Block: []byte{0x54}}, {Code: 0x9f}}},
		{"reg5 piece 8 reg4 piece 8", []byte{0x55, 0x93, 0x08, 0x54, 0x93, 0x08},
			[]dwarf.Op{{Code: 0x55}, {Code: 0x93, Arg1: 8}, {Code: 0x54}, {Code: 0x93, Arg1: 8}}},
		{"addr", []byte{0x03, 1, 2, 3, 4, 5, 6, 7, 8}, []dwarf.Op{{Code: 0x03, Arg1: 0x0807060504030201}}},
		{"const2s", []byte{0x0b, 0xfe, 0xff}, []dwarf.Op{{Code: 0x0b, Arg1: ^uint64(1)}}},
		{"bregx", []byte{0x92, 0x21, 0x02}, []dwarf.Op{{Code: 0x92, Arg1: 0x21, Arg2: 2}}},
		{"empty", nil, nil},
		{"truncated const4u", []byte{0x0c, 0x01}, nil},
		{"entry_value past the end", []byte{0xa3, 0x05, 0x54}, nil},
		{"unknown opcode", []byte{0xff}, nil},
	} {
		got, err := r.Ops(tc.expr, nil)
		switch {
		case tc.want == nil && len(tc.expr) > 0:
			if err == nil {
				t.Errorf("%s: decoded %v, want an error", tc.name, got)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !reflect.DeepEqual(got, tc.want):
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Every location of every DIE of the fixtures (DWARF 4 .debug_loc, DWARF 5
// .debug_loclists) decodes, and both list sections are met.
func TestLocations(t *testing.T) {
	for _, name := range []string{"types.dwarf4.o", "types.dwarf5.o"} {
		t.Run(name, func(t *testing.T) {
			_, d := open(t, filepath.Join("..", "encode", "testdata", name))
			r := d.NewReader()
			lists, exprs := 0, 0
			for i := range d.Units() {
				u := &d.Units()[i]
				if err := r.Reset(u); err != nil {
					t.Fatal(err)
				}
				var e dwarf.Entry
				for {
					ok, err := r.Next(&e)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					if e.Tag == 0 || !e.Has(dwarf.AttrLocation) {
						continue
					}
					if !e.Form(dwarf.AttrLocation).IsBlock() {
						lists++
					}
					err = r.Locations(&e, dwarf.AttrLocation, func(expr []byte) bool {
						exprs++
						if _, err := r.Ops(expr, nil); err != nil {
							t.Errorf("DIE %#x: %v", e.Offset, err)
						}
						return true
					})
					if err != nil {
						t.Errorf("DIE %#x: %v", e.Offset, err)
					}
				}
			}
			if lists == 0 || exprs <= lists {
				t.Errorf("%d location lists, %d expressions: the fixture should have lists", lists, exprs)
			}
		})
	}
}
