package dedup

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// The scenarios of libbpf's own dedup tests (selftests/bpf prog_tests/btf.c and
// btf_dedup_split.c) and of the passes documented in doc.go, written as type tables.
func TestDedup(t *testing.T) {
	base1 := spec( // split_simple's base
		intT("int", 4),                    // [1]
		ptr(1),                            // [2]
		structT("s1", 4, mem("f1", 1, 0)), // [3]
	)
	base2 := spec( // split_fwd_resolve's base
		intT("int", 4), // [1]
		ptr(4),         // [2]
		ptr(5),         // [3]
		structT("s1", 16, mem("f1", 2, 0), mem("f2", 3, 64)), // [4]
		structT("s2", 4, mem("f1", 1, 0)),                    // [5]
	)
	base3 := spec( // split_struct_duped's base
		intT("int", 4),   // [1]
		ptr(5),           // [2]
		fwd("s2", false), // [3]
		ptr(3),           // [4]
		structT("s1", 16, mem("f1", 2, 0), mem("f2", 4, 64)), // [5]
	)
	base4 := spec( // split_dup_struct_in_cu's base, deduplicated
		intT("int", 4), // [1]
		structT("s", 8, mem("a", 3, 0), mem("b", 3, 0)),   // [2]
		structT("", 8, mem("f1", 1, 0), mem("f2", 1, 32)), // [3]
	)
	base5 := spec(
		intT("int", 4),                  // [1]
		typedef("u32", 1),               // [2]
		structT("s", 4, mem("a", 2, 0)), // [3]
	)
	split5 := []btf.Type{
		intT("int", 4),                  // [4]
		typedef("u32", 4),               // [5]
		ptr(5),                          // [6]
		structT("s", 4, mem("a", 5, 0)), // [7]: its walk compares the typedefs
		typedef("u32", 4),               // [8]
	}
	wideInt := btf.Type{Kind: btf.KindInt, Name: "A", Size: 8, IntBits: 32, IntEncoding: btf.IntSigned}
	intVariant := func(name string, enc, off, bits uint8, size uint32) btf.Type {
		return btf.Type{Kind: btf.KindInt, Name: name, Size: size, IntEncoding: enc, IntOffset: off, IntBits: bits}
	}

	tests := []struct {
		name    string
		in      *btf.Spec
		opts    Options
		want    []btf.Type
		wantIDs []btf.TypeID // if set: the returned ID map
		// notIdempotent: the output still holds equal types that a second Dedup
		// merges, as libbpf's would.
		notIdempotent bool
	}{
		{
			name: "struct example 1",
			// struct s { struct s *next; const int *a; int b[16]; int c; float d; },
			// twice, with decl tags on the struct and on member 1.
			in: spec(
				intT("int", 4),  // [1]
				array(1, 1, 16), // [2]
				structT("s", 88, mem("next", 4, 0), mem("a", 5, 64), mem("b", 2, 128), mem("c", 1, 640), mem("d", 15, 672)), // [3]
				ptr(3),              // [4]
				ptr(6),              // [5]
				constT(1),           // [6]
				declTag("s", 3, -1), // [7]
				declTag("s", 3, 1),  // [8]
				intT("int", 4),      // [9]
				array(9, 9, 16),     // [10]
				structT("s", 88, mem("next", 12, 0), mem("a", 13, 64), mem("b", 10, 128), mem("c", 9, 640), mem("d", 15, 672)), // [11]
				ptr(11),              // [12]
				ptr(14),              // [13]
				constT(9),            // [14]
				floatT("float", 4),   // [15]
				declTag("s", 11, -1), // [16]
				declTag("s", 11, 1),  // [17]
			),
			want: []btf.Type{
				intT("int", 4),
				array(1, 1, 16),
				structT("s", 88, mem("next", 4, 0), mem("a", 5, 64), mem("b", 2, 128), mem("c", 1, 640), mem("d", 9, 672)),
				ptr(3),
				ptr(6),
				constT(1),
				declTag("s", 3, -1),
				declTag("s", 3, 1),
				floatT("float", 4),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 9, 7, 8},
		},
		{
			name: "struct fwd resolution with hash collisions",
			// CU 1: struct x; struct s { struct x *x; };  CU 2: struct x {}; the same s.
			in: spec(
				fwd("x", false),                 // [1]
				ptr(1),                          // [2]
				structT("s", 8, mem("x", 2, 0)), // [3]
				structT("x", 0),                 // [4]
				ptr(4),                          // [5]
				structT("s", 8, mem("x", 5, 0)), // [6]
			),
			want: []btf.Type{
				ptr(3),
				structT("s", 8, mem("x", 1, 0)),
				structT("x", 0),
			},
			wantIDs: []btf.TypeID{3, 1, 2, 3, 1, 2},
		},
		{
			name: "void is not an empty struct",
			// CU 1: struct s { struct {} *x; };  CU 2: struct s { void *x; }.
			in: spec(
				structT("", 1),                  // [1]
				ptr(1),                          // [2]
				structT("s", 8, mem("x", 2, 0)), // [3]
				ptr(0),                          // [4]
				structT("s", 8, mem("x", 4, 0)), // [5]
			),
			want: []btf.Type{
				structT("", 1),
				ptr(1),
				structT("s", 8, mem("x", 2, 0)),
				ptr(0),
				structT("s", 8, mem("x", 4, 0)),
			},
		},
		{
			name: "all kinds, no duplicates",
			in: spec(
				wideInt,                                 // [1]
				enumT("B", 4, val("C", 0), val("D", 1)), // [2]
				fwd("E", true),                          // [3]
				array(2, 1, 7),                          // [4]
				structT("F", 4, mem("G", 1, 0)),         // [5]
				unionT("H", 4, mem("I", 1, 0)),          // [6]
				typedef("J", 1),                         // [7]
				ptr(0),                                  // [8]
				constT(8),                               // [9]
				ref(btf.KindVolatile, "", 8),            // [10]
				ref(btf.KindRestrict, "", 8),            // [11]
				proto(1, param("K", 1), param("L", 8)),  // [12]
				funcT("M", 12, btf.LinkageStatic),       // [13]
				floatT("N", 2),                          // [14]
				declTag("O", 13, -1),                    // [15]
				declTag("P", 13, 1),                     // [16]
				ref(btf.KindTypeTag, "Q", 8),            // [17]
			),
			want: []btf.Type{
				wideInt,
				enumT("B", 4, val("C", 0), val("D", 1)),
				fwd("E", true),
				array(2, 1, 7),
				structT("F", 4, mem("G", 1, 0)),
				unionT("H", 4, mem("I", 1, 0)),
				typedef("J", 1),
				ptr(0),
				constT(8),
				ref(btf.KindVolatile, "", 8),
				ref(btf.KindRestrict, "", 8),
				proto(1, param("K", 1), param("L", 8)),
				funcT("M", 12, btf.LinkageStatic),
				floatT("N", 2),
				declTag("O", 13, -1),
				declTag("P", 13, 1),
				ref(btf.KindTypeTag, "Q", 8),
			},
		},
		{
			name: "no int or float duplicates",
			in: spec(
				intVariant("int", btf.IntSigned, 0, 32, 8),
				intVariant("some other int", btf.IntSigned, 0, 32, 8),
				intVariant("int", btf.IntChar, 0, 32, 8),
				intVariant("int", btf.IntBool, 0, 32, 8),
				intVariant("int", btf.IntSigned, 8, 32, 8),
				intVariant("int", btf.IntSigned, 0, 27, 8),
				intVariant("int", btf.IntSigned, 0, 32, 4),
				floatT("float", 2), floatT("float", 4), floatT("float", 8), floatT("float", 12), floatT("float", 16),
				intVariant("int", btf.IntSigned, 0, 32, 8), // the only duplicate
				floatT("float", 8),                         // and this one
			),
			want: []btf.Type{
				intVariant("int", btf.IntSigned, 0, 32, 8),
				intVariant("some other int", btf.IntSigned, 0, 32, 8),
				intVariant("int", btf.IntChar, 0, 32, 8),
				intVariant("int", btf.IntBool, 0, 32, 8),
				intVariant("int", btf.IntSigned, 8, 32, 8),
				intVariant("int", btf.IntSigned, 0, 27, 8),
				intVariant("int", btf.IntSigned, 0, 32, 4),
				floatT("float", 2), floatT("float", 4), floatT("float", 8), floatT("float", 12), floatT("float", 16),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 10},
		},
		{
			name: "enum forward declarations",
			in: spec(
				enumT("e1", 4),                     // [1] forward before the enum
				enumT("e1", 4, val("e1_val", 123)), // [2]
				enumT("e2", 4, val("e2_val", 456)), // [3]
				enumT("e2", 4),                     // [4] forward after the enum
				enumT("e1", 1),                     // [5] forward of another size
				enumT("e1", 4, val("e1_val", 321)), // [6] another e1
			),
			// As libbpf 1.1 does: a full enum takes over every compatible forward
			// seen before it ([1] ends at [6], the last full e1), and a forward
			// joins the first compatible candidate in libbpf's order (newest
			// first here: [5] joins [2]).
			want: []btf.Type{
				enumT("e1", 4, val("e1_val", 123)),
				enumT("e2", 4, val("e2_val", 456)),
				enumT("e1", 4, val("e1_val", 321)),
			},
			wantIDs: []btf.TypeID{3, 1, 2, 2, 1, 3},
		},
		{
			name: "enum forward joins an enum64",
			in: spec(
				enumT("e", 4),
				btf.Type{Kind: btf.KindEnum64, Name: "e", Size: 8, Members: []btf.Member{val("big", 1<<40)}},
			),
			want: []btf.Type{
				{Kind: btf.KindEnum64, Name: "e", Size: 8, Members: []btf.Member{val("big", 1<<40)}},
			},
			wantIDs: []btf.TypeID{1, 1},
		},
		{
			name: "datasec and vars pass through",
			in: spec(
				intT("", 4),                          // [1]
				varT("t", 1, 0),                      // [2]
				datasec(".bss", 4, secinfo(2, 0, 4)), // [3]
				intT("", 4),                          // [4]
				varT("t", 4, 0),                      // [5]
				datasec(".bss", 4, secinfo(5, 0, 4)), // [6]
			),
			want: []btf.Type{
				intT("", 4),
				varT("t", 1, 0),
				datasec(".bss", 4, secinfo(2, 0, 4)),
				varT("t", 1, 0),
				datasec(".bss", 4, secinfo(4, 0, 4)),
			},
		},
		{
			name: "func, parameter and var tags",
			in: spec(
				intT("", 4),                              // [1]
				varT("t", 1, 0),                          // [2]
				proto(0, param("a1", 1), param("a2", 1)), // [3]
				funcT("f", 3, btf.LinkageGlobal),         // [4]
				declTag("tag", 2, -1),                    // [5]
				declTag("tag", 2, -1),                    // [6]
				declTag("tag", 4, -1),                    // [7]
				declTag("tag", 4, -1),                    // [8]
				declTag("tag", 4, 1),                     // [9]
				declTag("tag", 4, 1),                     // [10]
			),
			want: []btf.Type{
				intT("", 4),
				varT("t", 1, 0),
				proto(0, param("a1", 1), param("a2", 1)),
				funcT("f", 3, btf.LinkageGlobal),
				declTag("tag", 2, -1),
				declTag("tag", 4, -1),
				declTag("tag", 4, 1),
			},
		},
		{
			name: "func and parameter tags from two copies",
			in: spec(
				intT("", 4),                              // [1]
				proto(0, param("a1", 1), param("a2", 1)), // [2]
				funcT("f", 2, btf.LinkageGlobal),         // [3]
				proto(0, param("a1", 1), param("a2", 1)), // [4]
				funcT("f", 4, btf.LinkageGlobal),         // [5]
				declTag("tag1", 3, -1),                   // [6]
				declTag("tag2", 3, -1),                   // [7]
				declTag("tag1", 3, 1),                    // [8]
				declTag("tag2", 3, 1),                    // [9]
				declTag("tag1", 5, -1),                   // [10]
				declTag("tag3", 5, -1),                   // [11]
				declTag("tag1", 5, 1),                    // [12]
				declTag("tag3", 5, 1),                    // [13]
			),
			want: []btf.Type{
				intT("", 4),
				proto(0, param("a1", 1), param("a2", 1)),
				funcT("f", 2, btf.LinkageGlobal),
				declTag("tag1", 3, -1),
				declTag("tag2", 3, -1),
				declTag("tag1", 3, 1),
				declTag("tag2", 3, 1),
				declTag("tag3", 3, -1),
				declTag("tag3", 3, 1),
			},
		},
		{
			name: "struct and member tags",
			in: spec(
				intT("", 4), // [1]
				structT("t", 8, mem("m1", 1, 0), mem("m2", 1, 32)), // [2]
				structT("t", 8, mem("m1", 1, 0), mem("m2", 1, 32)), // [3]
				declTag("tag1", 2, -1), declTag("tag2", 2, -1),     // [4] [5]
				declTag("tag1", 2, 1), declTag("tag2", 2, 1), // [6] [7]
				declTag("tag1", 3, -1), declTag("tag3", 3, -1), // [8] [9]
				declTag("tag1", 3, 1), declTag("tag3", 3, 1), // [10] [11]
			),
			want: []btf.Type{
				intT("", 4),
				structT("t", 8, mem("m1", 1, 0), mem("m2", 1, 32)),
				declTag("tag1", 2, -1), declTag("tag2", 2, -1),
				declTag("tag1", 2, 1), declTag("tag2", 2, 1),
				declTag("tag3", 2, -1),
				declTag("tag3", 2, 1),
			},
		},
		{
			name: "worked example of the package documentation",
			in:   concat(exampleCU1(), exampleCU2()),
			want: []btf.Type{
				intT("int", 4),
				structT("A", 16, mem("a", 1, 0), mem("self", 3, 64)),
				ptr(2),
				ptr(6),
				structT("S", 16, mem("a", 3, 0), mem("b", 4, 64)),
				structT("B", 16, mem("b", 1, 0), mem("self", 4, 64)),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 6, 4, 5, 1, 2, 3, 6, 4, 5},
		},
		{
			name: "unambiguous forward declaration resolves by name",
			// CU 1: struct foo; struct foo *g1;  CU 2: struct foo { int u; } *g2;
			// No struct holds the FWD, so only the name pass can resolve it.
			in: spec(
				fwd("foo", false),                 // [1]
				ptr(1),                            // [2]
				structT("foo", 4, mem("u", 4, 0)), // [3]
				intT("int", 4),                    // [4]
				ptr(3),                            // [5]
			),
			want: []btf.Type{
				ptr(2),
				structT("foo", 4, mem("u", 3, 0)),
				intT("int", 4),
			},
			wantIDs: []btf.TypeID{2, 1, 2, 3, 1},
		},
		{
			name: "ambiguous forward declaration stays",
			in: spec(
				fwd("foo", false),                 // [1]
				structT("foo", 4, mem("a", 3, 0)), // [2]
				intT("int", 4),                    // [3]
				structT("foo", 4, mem("b", 3, 0)), // [4]
			),
			want: []btf.Type{
				fwd("foo", false),
				structT("foo", 4, mem("a", 3, 0)),
				intT("int", 4),
				structT("foo", 4, mem("b", 3, 0)),
			},
		},
		{
			name: "union forward does not resolve to a struct",
			in: spec(
				fwd("foo", true),
				structT("foo", 0),
			),
			want: []btf.Type{
				fwd("foo", true),
				structT("foo", 0),
			},
		},
		{
			name: "union forward inside a struct resolves to the union",
			in: spec(
				fwd("u", true),                  // [1]
				ptr(1),                          // [2]
				structT("s", 8, mem("p", 2, 0)), // [3]
				unionT("u", 4, mem("x", 7, 0)),  // [4]
				ptr(4),                          // [5]
				structT("s", 8, mem("p", 5, 0)), // [6]
				intT("int", 4),                  // [7]
			),
			want: []btf.Type{
				ptr(3),
				structT("s", 8, mem("p", 1, 0)),
				unionT("u", 4, mem("x", 4, 0)),
				intT("int", 4),
			},
		},
		{
			name: "cycle through pointers",
			in: spec(
				intT("int", 4), // [1]
				structT("list", 16, mem("next", 3, 0), mem("v", 1, 64)), // [2]
				ptr(2), // [3]
				ptr(5), // [4]
				structT("list", 16, mem("next", 4, 0), mem("v", 6, 64)), // [5]
				intT("int", 4), // [6]
			),
			want: []btf.Type{
				intT("int", 4),
				structT("list", 16, mem("next", 3, 0), mem("v", 1, 64)),
				ptr(2),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 3, 2, 1},
		},
		{
			name: "mutually recursive structs",
			// struct a { struct b *b; }; struct b { struct a *a; }; twice.
			in: concat(
				spec(structT("a", 8, mem("b", 2, 0)), ptr(3), structT("b", 8, mem("a", 4, 0)), ptr(1)),
				spec(ptr(2), structT("b", 8, mem("a", 3, 0)), ptr(4), structT("a", 8, mem("b", 1, 0))),
			),
			want: []btf.Type{
				structT("a", 8, mem("b", 2, 0)),
				ptr(3),
				structT("b", 8, mem("a", 4, 0)),
				ptr(1),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 4, 2, 3, 4, 1},
		},
		{
			name: "same shape, different member type",
			in: spec(
				intT("int", 4),                  // [1]
				intT("long", 8),                 // [2]
				structT("s", 8, mem("x", 1, 0)), // [3]
				structT("s", 8, mem("x", 2, 0)), // [4]
			),
			want: []btf.Type{
				intT("int", 4),
				intT("long", 8),
				structT("s", 8, mem("x", 1, 0)),
				structT("s", 8, mem("x", 2, 0)),
			},
		},
		{
			name: "bitfields differ",
			in: spec(
				intT("int", 4),
				btf.Type{Kind: btf.KindStruct, Name: "s", Size: 4, KindFlag: true, Members: []btf.Member{{Name: "x", Type: 1, Size: 3}}},
				btf.Type{Kind: btf.KindStruct, Name: "s", Size: 4, KindFlag: true, Members: []btf.Member{{Name: "x", Type: 1, Size: 4}}},
				btf.Type{Kind: btf.KindStruct, Name: "s", Size: 4, KindFlag: true, Members: []btf.Member{{Name: "x", Type: 1, Size: 3}}},
			),
			want: []btf.Type{
				intT("int", 4),
				{Kind: btf.KindStruct, Name: "s", Size: 4, KindFlag: true, Members: []btf.Member{{Name: "x", Type: 1, Size: 3}}},
				{Kind: btf.KindStruct, Name: "s", Size: 4, KindFlag: true, Members: []btf.Member{{Name: "x", Type: 1, Size: 4}}},
			},
			wantIDs: []btf.TypeID{1, 2, 3, 2},
		},
		{
			name: "twin arrays inside one CU",
			// The canonical struct uses one int[4] record for both members, the
			// candidate two identical ones.
			in: spec(
				intT("int", 4), // [1]
				array(1, 1, 4), // [2]
				structT("s", 32, mem("a", 2, 0), mem("b", 2, 128)), // [3]
				intT("int", 4), // [4]
				array(4, 4, 4), // [5]
				array(4, 4, 4), // [6]
				structT("s", 32, mem("a", 5, 0), mem("b", 6, 128)), // [7]
			),
			want: []btf.Type{
				intT("int", 4),
				array(1, 1, 4),
				structT("s", 32, mem("a", 2, 0), mem("b", 2, 128)),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 1, 2, 2, 3},
		},
		{
			name: "twin anonymous structs inside one CU",
			in: spec(
				intT("int", 4), // [1]
				structT("s", 8, mem("a", 3, 0), mem("b", 4, 0)),   // [2]
				structT("", 8, mem("f1", 1, 0), mem("f2", 1, 32)), // [3]
				structT("", 8, mem("f1", 1, 0), mem("f2", 1, 32)), // [4]
			),
			want: []btf.Type{
				intT("int", 4),
				structT("s", 8, mem("a", 3, 0), mem("b", 3, 0)),
				structT("", 8, mem("f1", 1, 0), mem("f2", 1, 32)),
			},
		},
		{
			name: "typedefs and function prototypes",
			in: spec(
				intT("int", 4),                        // [1]
				typedef("u32", 1),                     // [2]
				proto(2, param("a", 2)),               // [3]
				funcT("f", 3, btf.LinkageStatic),      // [4]
				intT("int", 4),                        // [5]
				typedef("u32", 5),                     // [6]
				proto(6, param("a", 6)),               // [7]
				funcT("f", 7, btf.LinkageGlobal),      // [8] other linkage
				funcT("f", 7, btf.LinkageStatic),      // [9]
				proto(6, param("b", 6)),               // [10] other parameter name
				proto(6, param("a", 6), param("", 0)), // [11] varargs
			),
			want: []btf.Type{
				intT("int", 4),
				typedef("u32", 1),
				proto(2, param("a", 2)),
				funcT("f", 3, btf.LinkageStatic),
				funcT("f", 3, btf.LinkageGlobal),
				proto(2, param("b", 2)),
				proto(2, param("a", 2), param("", 0)),
			},
			wantIDs: []btf.TypeID{1, 2, 3, 4, 1, 2, 3, 5, 4, 6, 7},
		},
		{
			name: "split: duplicates of base types",
			in: split(base1,
				structT("s2", 16, mem("f1", 6, 0), mem("f2", 5, 32), mem("f3", 2, 64)), // [4]
				intT("int", 4),                    // [5]
				structT("s1", 4, mem("f1", 5, 0)), // [6]
			),
			want: []btf.Type{
				structT("s2", 16, mem("f1", 3, 0), mem("f2", 1, 32), mem("f3", 2, 64)),
			},
			wantIDs: []btf.TypeID{4, 1, 3},
		},
		{
			name: "split: forward resolves to a base struct",
			in: split(base2,
				intT("int", 4),   // [6]
				ptr(10),          // [7]
				fwd("s2", false), // [8]
				ptr(8),           // [9]
				structT("s1", 16, mem("f1", 7, 0), mem("f2", 9, 64)), // [10]
			),
			want:    nil,
			wantIDs: []btf.TypeID{1, 2, 5, 3, 4},
		},
		{
			name: "split: base forward is never resolved to a split struct",
			in: split(base3,
				intT("int", 4),   // [6]
				ptr(10),          // [7]
				fwd("s2", false), // [8]
				ptr(11),          // [9]
				structT("s1", 16, mem("f1", 7, 0), mem("f2", 9, 64)),                                        // [10]
				structT("s2", 40, mem("f1", 7, 0), mem("f2", 9, 64), mem("f3", 6, 128), mem("f4", 10, 192)), // [11]
				ptr(8),                             // [12]
				structT("s3", 8, mem("f1", 12, 0)), // [13]
			),
			want: []btf.Type{
				ptr(8),
				ptr(9),
				structT("s1", 16, mem("f1", 6, 0), mem("f2", 7, 64)),
				structT("s2", 40, mem("f1", 6, 0), mem("f2", 7, 64), mem("f3", 1, 128), mem("f4", 8, 192)),
				structT("s3", 8, mem("f1", 7, 0)),
			},
			wantIDs: []btf.TypeID{1, 6, 9, 7, 8, 9, 7, 10},
		},
		{
			name: "split: twin structs on a deduplicated base",
			in: split(base4,
				intT("int", 4), // [4]
				structT("s", 8, mem("a", 6, 0), mem("b", 7, 0)),   // [5]
				structT("", 8, mem("f1", 4, 0), mem("f2", 4, 32)), // [6]
				structT("", 8, mem("f1", 4, 0), mem("f2", 4, 32)), // [7]
			),
			want:    nil,
			wantIDs: []btf.TypeID{1, 2, 3, 3},
		},
		{
			name: "split: typedefs map to base typedefs",
			in:   split(base5, split5...),
			want: []btf.Type{
				ptr(2),
			},
			wantIDs: []btf.TypeID{1, 2, 4, 3, 2},
		},
		{
			name: "split: libbpf 1.7.0 keeps module copies of base typedefs",
			in:   split(base5, split5...),
			opts: Options{BaseTypedefsUnmatched: true},
			want: []btf.Type{
				typedef("u32", 1), // [4]
				ptr(4),            // [5]
			},
			wantIDs: []btf.TypeID{1, 4, 5, 3, 4},
		},
		{
			name: "no base: typedefs still merge with BaseTypedefsUnmatched",
			in:   spec(intT("int", 4), typedef("u32", 1), typedef("u32", 1), ptr(3)),
			opts: Options{BaseTypedefsUnmatched: true},
			want: []btf.Type{
				intT("int", 4),
				typedef("u32", 1),
				ptr(2),
			},
			wantIDs: []btf.TypeID{1, 2, 2, 3},
		},
		// libbpf 1.7.0 (Options.Libbpf170) against libbpf 1.1, one pair per quirk.
		{
			name: "libbpf 1.1: typedefs of a FWD and of its struct differ when the FWD stays unresolved",
			in:   libbpf170FwdTypedefs(),
			want: []btf.Type{
				intT("int", 4),                  // [1]
				fwd("s", false),                 // [2]
				ptr(2),                          // [3]
				proto(0, param("p", 3)),         // [4]
				ptr(4),                          // [5]
				typedef("cb", 5),                // [6]
				structT("s", 4, mem("a", 1, 0)), // [7]
				ptr(7),                          // [8]
				proto(0, param("p", 8)),         // [9]
				ptr(9),                          // [10]
				typedef("cb", 10),               // [11]
				structT("s", 8, mem("b", 1, 0), mem("c", 1, 32)), // [12]
			},
		},
		{
			// libbpf 1.7.0 deduplicates typedefs in the struct pass by the graph
			// walk (libbpf commit 3781413465df). The walk from the second typedef
			// pairs its struct s with the first one's FWD s, so the typedefs are
			// equal and the FWD resolves to that struct, though the name s is
			// ambiguous. libbpf 1.1 compares typedefs by their canonical
			// references, after FWDs were resolved by name (not here).
			name: "libbpf 1.7.0: typedefs are equal by the graph walk, which resolves the FWD",
			in:   libbpf170FwdTypedefs(),
			opts: Options{Libbpf170: true},
			want: []btf.Type{
				intT("int", 4),                  // [1]
				ptr(6),                          // [2]
				proto(0, param("p", 2)),         // [3]
				ptr(3),                          // [4]
				typedef("cb", 4),                // [5]
				structT("s", 4, mem("a", 1, 0)), // [6]
				structT("s", 8, mem("b", 1, 0), mem("c", 1, 32)), // [7]
			},
			wantIDs: []btf.TypeID{1, 6, 2, 3, 4, 5, 1, 6, 2, 3, 4, 5, 7},
		},
		{
			name: "libbpf 1.1: twin arrays must have the same element type",
			in:   libbpf170ArrayTwins(),
			want: []btf.Type{
				intT("int", 4), // [1]
				array(1, 1, 4), // [2]
				structT("s", 32, mem("a", 2, 0), mem("b", 2, 128)), // [3]
				intT("long", 8), // [4]
				array(4, 1, 4),  // [5]
				structT("s", 32, mem("a", 2, 0), mem("b", 5, 128)), // [6]
			},
			wantIDs: []btf.TypeID{1, 2, 3, 1, 4, 2, 5, 6},
		},
		{
			// btf_dedup_identical_types in libbpf 1.7.0 reads both arrays from the
			// first type (a2 = btf_array(t1)): any two arrays with the same length
			// count as twins, so the struct whose second member is a long[4] where
			// the canonical one has an int[4] is taken as equal to it.
			name: "libbpf 1.7.0: twin arrays are compared by their length only",
			in:   libbpf170ArrayTwins(),
			opts: Options{Libbpf170: true},
			want: []btf.Type{
				intT("int", 4), // [1]
				array(1, 1, 4), // [2]
				structT("s", 32, mem("a", 2, 0), mem("b", 2, 128)), // [3]
				intT("long", 8), // [4]
				array(4, 1, 4),  // [5]
			},
			wantIDs: []btf.TypeID{1, 2, 3, 1, 4, 2, 5, 3},
		},
		{
			name: "libbpf 1.1: twin pointers are no twins",
			in:   libbpf170PtrTwins(),
			// The struct that the twins kept apart equals the other one once the
			// pointers are one.
			notIdempotent: true,
			want: []btf.Type{
				intT("int", 4), // [1]
				ptr(1),         // [2]
				structT("s", 16, mem("a", 2, 0), mem("b", 2, 64)), // [3]
				structT("s", 16, mem("a", 2, 0), mem("b", 2, 64)), // [4]
			},
			wantIDs: []btf.TypeID{1, 2, 3, 1, 2, 2, 4},
		},
		{
			// libbpf 1.7.0's identical-types fallback covers every kind (libbpf
			// commits c8a28812, 5ee9fbf7): two pointer records to the same type in
			// the candidate graph, where the canonical graph has one, are twins.
			name: "libbpf 1.7.0: twin pointers are twins",
			in:   libbpf170PtrTwins(),
			opts: Options{Libbpf170: true},
			want: []btf.Type{
				intT("int", 4), // [1]
				ptr(1),         // [2]
				structT("s", 16, mem("a", 2, 0), mem("b", 2, 64)), // [3]
			},
			wantIDs: []btf.TypeID{1, 2, 3, 1, 2, 2, 3},
		},
		{
			// Base typedefs stay under libbpf 1.7.0's old hash (name, info and
			// referenced ID) while split typedefs are looked up by name and info:
			// they never meet, even when the split typedef and the base typedef
			// name the very same base type.
			name: "split: libbpf 1.7.0 keeps a typedef of a base struct",
			in: split(spec(
				intT("int", 4),                  // [1]
				structT("s", 4, mem("a", 1, 0)), // [2]
				typedef("s_t", 2),               // [3]
			),
				typedef("s_t", 2), // [4]
				ptr(4),            // [5]
				typedef("s_t", 2), // [6]
				ptr(6),            // [7]
			),
			opts: Options{Libbpf170: true},
			want: []btf.Type{
				typedef("s_t", 2), // [4]
				ptr(4),            // [5]
			},
			wantIDs: []btf.TypeID{4, 5, 4, 5},
		},
	}
	// Each case runs twice, the second time with every signature colliding (as
	// libbpf's tests force with dedup_table_size 1): equality, not the hash, decides.
	for _, tt := range tests {
		for _, collide := range []bool{false, true} {
			name := tt.name
			if collide {
				name += " with collisions"
			}
			t.Run(name, func(t *testing.T) {
				forceCollisions = collide
				defer func() { forceCollisions = false }()

				inDump := dump(tt.in)
				got, ids, err := Dedup(tt.in, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				want := &btf.Spec{Base: tt.in.Base, FirstID: tt.in.FirstID, Types: tt.want}
				if g, w := dump(got), dump(want); g != w {
					t.Errorf("got:\n%swant:\n%s", g, w)
				}
				if got.Base != tt.in.Base || got.FirstID != tt.in.FirstID {
					t.Errorf("got base %p first ID %d, want %p %d", got.Base, got.FirstID, tt.in.Base, tt.in.FirstID)
				}
				if len(ids) != len(tt.in.Types) {
					t.Fatalf("got %d IDs for %d types", len(ids), len(tt.in.Types))
				}
				if tt.wantIDs != nil && !slices.Equal(ids, tt.wantIDs) {
					t.Errorf("IDs: got %v, want %v", ids, tt.wantIDs)
				}
				if dump(tt.in) != inDump {
					t.Errorf("the input was modified")
				}
				if tt.in.Base != nil {
					// The same with the base prepared once, used twice.
					pb, err := PrepareBase(tt.in.Base)
					if err != nil {
						t.Fatal(err)
					}
					bases := []*Base{pb}
					if !collide {
						// And written out and read back (LoadBase).
						data, err := pb.MarshalBinary()
						if err != nil {
							t.Fatal(err)
						}
						lb, err := LoadBase(tt.in.Base, data)
						if err != nil {
							t.Fatal(err)
						}
						bases = append(bases, lb)
					}
					opts := tt.opts
					for _, opts.Base = range bases {
						for range 2 {
							pgot, pids, err := Dedup(tt.in, opts)
							if err != nil {
								t.Fatal(err)
							}
							if g, w := dump(pgot), dump(got); g != w || !slices.Equal(pids, ids) {
								t.Errorf("with a prepared base: got:\n%s%v\nwant:\n%s%v", g, pids, w, ids)
							}
						}
					}
				}

				// Idempotence: deduplicated BTF has nothing left to merge.
				if tt.notIdempotent {
					return
				}
				again, ids2, err := Dedup(got, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := dump(again), dump(got); g != w {
					t.Errorf("Dedup(Dedup(x)) differs:\n%swant:\n%s", g, w)
				}
				for i, id := range ids2 {
					if id != got.FirstID+btf.TypeID(i) {
						t.Errorf("Dedup(Dedup(x)) moved type %d to %d", got.FirstID+btf.TypeID(i), id)
					}
				}
			})
		}
	}
}

// libbpf170FwdTypedefs: two CUs declare typedef cb, a pointer to a function taking a
// struct s *. The first CU only has a FWD of s; the name s belongs to two structs.
func libbpf170FwdTypedefs() *btf.Spec {
	return spec(
		intT("int", 4),                  // [1]
		fwd("s", false),                 // [2]
		ptr(2),                          // [3]
		proto(0, param("p", 3)),         // [4]
		ptr(4),                          // [5]
		typedef("cb", 5),                // [6]
		intT("int", 4),                  // [7]
		structT("s", 4, mem("a", 7, 0)), // [8]
		ptr(8),                          // [9]
		proto(0, param("p", 9)),         // [10]
		ptr(10),                         // [11]
		typedef("cb", 11),               // [12]
		structT("s", 8, mem("b", 7, 0), mem("c", 7, 32)), // [13]
	)
}

// libbpf170ArrayTwins: the canonical struct has one int[4] for both members, the
// candidate an int[4] and a long[4].
func libbpf170ArrayTwins() *btf.Spec {
	return spec(
		intT("int", 4), // [1]
		array(1, 1, 4), // [2]
		structT("s", 32, mem("a", 2, 0), mem("b", 2, 128)), // [3]
		intT("int", 4),  // [4]
		intT("long", 8), // [5]
		array(4, 4, 4),  // [6]
		array(5, 4, 4),  // [7]
		structT("s", 32, mem("a", 6, 0), mem("b", 7, 128)), // [8]
	)
}

// libbpf170PtrTwins: the canonical struct has one int * for both members, the
// candidate two identical int * records.
func libbpf170PtrTwins() *btf.Spec {
	return spec(
		intT("int", 4), // [1]
		ptr(1),         // [2]
		structT("s", 16, mem("a", 2, 0), mem("b", 2, 64)), // [3]
		intT("int", 4), // [4]
		ptr(4),         // [5]
		ptr(4),         // [6]
		structT("s", 16, mem("a", 5, 0), mem("b", 6, 64)), // [7]
	)
}

// The two CUs of the package documentation's worked example.
func exampleCU1() *btf.Spec {
	return spec(
		intT("int", 4), // [1]
		structT("A", 16, mem("a", 1, 0), mem("self", 3, 64)), // [2]
		ptr(2),          // [3]
		fwd("B", false), // [4]
		ptr(4),          // [5]
		structT("S", 16, mem("a", 3, 0), mem("b", 5, 64)), // [6]
	)
}

func exampleCU2() *btf.Spec {
	return spec(
		intT("int", 4),  // [1]
		fwd("A", false), // [2]
		ptr(2),          // [3]
		structT("B", 16, mem("b", 1, 0), mem("self", 5, 64)), // [4]
		ptr(4), // [5]
		structT("S", 16, mem("a", 3, 0), mem("b", 5, 64)), // [6]
	)
}

// The result does not depend on the order in which CUs are concatenated, up to
// numbering, nor on the hash (all signatures colliding).
func TestOrderIndependence(t *testing.T) {
	cus := []*btf.Spec{
		exampleCU1(),
		exampleCU2(),
		spec( // a third CU: both structs complete, through typedefs
			intT("int", 4), // [1]
			structT("A", 16, mem("a", 1, 0), mem("self", 3, 64)), // [2]
			ptr(2), // [3]
			structT("B", 16, mem("b", 1, 0), mem("self", 5, 64)), // [4]
			ptr(4), // [5]
			structT("S", 16, mem("a", 3, 0), mem("b", 5, 64)), // [6]
			typedef("S_t", 6), // [7]
			ptr(7),            // [8]
		),
		spec( // a fourth: only forward declarations
			fwd("S", false),   // [1]
			typedef("S_t", 1), // [2]
			ptr(2),            // [3]
		),
	}
	var ref []string
	for _, perm := range [][]int{{0, 1, 2, 3}, {1, 0, 2, 3}, {3, 2, 1, 0}, {2, 3, 0, 1}, {3, 0, 2, 1}} {
		for _, collide := range []bool{false, true} {
			var in []*btf.Spec
			for _, i := range perm {
				in = append(in, cus[i])
			}
			forceCollisions = collide
			got, _, err := Dedup(concat(in...), Options{})
			forceCollisions = false
			if err != nil {
				t.Fatal(err)
			}
			sh := shapes(got, 6)
			if ref == nil {
				ref = sh
				if len(sh) != 8 {
					t.Errorf("got %d types, want 8:\n%s", len(sh), dump(got))
				}
				continue
			}
			if !slices.Equal(sh, ref) {
				t.Errorf("order %v, collisions %v: got\n%s\nwant\n%s", perm, collide,
					strings.Join(sh, "\n"), strings.Join(ref, "\n"))
			}
		}
	}
}

// Repeated runs give identical output.
func TestDeterministic(t *testing.T) {
	in := concat(exampleCU2(), exampleCU1(), exampleCU2(), exampleCU1())
	first, ids, err := Dedup(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		got, ids2, err := Dedup(in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if dump(got) != dump(first) || !slices.Equal(ids, ids2) {
			t.Fatalf("run differs:\n%s\nfirst:\n%s", dump(got), dump(first))
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        *btf.Spec
		want      string // substring of the message
		malformed bool   // wraps ErrMalformed
	}{
		{
			name:      "reference past the end",
			in:        spec(intT("int", 4), ptr(7)),
			want:      "type [2] PTR '': malformed BTF: references type [7] past the last type [2]",
			malformed: true,
		},
		{
			name:      "member past the end",
			in:        spec(structT("s", 4, mem("x", 9, 0))),
			want:      "type [1] STRUCT 's': malformed BTF: member 0 'x' references type [9]",
			malformed: true,
		},
		{
			name:      "array index past the end",
			in:        spec(intT("int", 4), array(1, 5, 1)),
			want:      "type [2] ARRAY '': malformed BTF: index type [5]",
			malformed: true,
		},
		{
			name:      "unknown kind",
			in:        spec(btf.Type{Kind: 25, Name: "x"}),
			want:      "type [1] KIND(25) 'x': malformed BTF: unknown kind 25",
			malformed: true,
		},
		{
			name:      "void kind stored",
			in:        spec(btf.Type{}),
			want:      "unknown kind 0",
			malformed: true,
		},
		{
			name:      "pointer cycle",
			in:        spec(ptr(2), constT(1)),
			want:      "type [1] PTR '': malformed BTF: reference cycle",
			malformed: true,
		},
		{
			name:      "typedef cycle",
			in:        spec(typedef("a", 2), typedef("b", 1)),
			want:      "type [1] TYPEDEF 'a': malformed BTF: reference cycle",
			malformed: true,
		},
		{
			name: "struct member is a VAR",
			in: spec(
				intT("int", 4),
				varT("v", 1, 0),
				structT("s", 4, mem("x", 2, 0)),
				varT("v", 1, 0),
				structT("s", 4, mem("x", 4, 0)),
			),
			want:      "type [4] VAR 'v': malformed BTF: a VAR cannot be referenced",
			malformed: true,
		},
		{
			name: "first ID without base",
			in:   &btf.Spec{FirstID: 5, Types: []btf.Type{intT("int", 4)}},
			want: "dedup: Spec starts at ID 5, its base ends at 0",
		},
		{
			name: "first ID after base",
			in:   &btf.Spec{Base: spec(intT("int", 4)), FirstID: 3},
			want: "dedup: Spec starts at ID 3, its base ends at 1",
		},
		{
			name:      "base reference past the base",
			in:        split(spec(ptr(2)), intT("int", 4)),
			want:      "type [1] PTR '': malformed BTF: references type [2] past the last type [1]",
			malformed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Dedup(tt.in, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrMalformed) != tt.malformed {
				t.Errorf("errors.Is(%q, ErrMalformed) = %v", err, !tt.malformed)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	got, ids, err := Dedup(btf.NewSpec(), Options{})
	if err != nil || len(got.Types) != 0 || len(ids) != 0 {
		t.Fatalf("got %v %v %v", got, ids, err)
	}
}

// The table lists candidates in the order libbpf's hashmap would: checked against a
// direct model of it (prepend to a key's chain; every growth reverses the chains).
func TestTable(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 13, 100, 5000} {
		tb := newTable(1)
		model := map[uint64][]uint32{}
		modelCap := 0
		for i := uint32(1); i <= uint32(n); i++ {
			h := uint64(i%37) * 0x1000193
			if sz := int(i - 1); modelCap == 0 || (sz+1)*4/3 > modelCap {
				modelCap = max(4, 2*modelCap)
				for k := range model {
					slices.Reverse(model[k])
				}
			}
			model[h] = append([]uint32{i}, model[h]...)
			tb.add(h, i)
		}
		for h, want := range model {
			var got []uint32
			for e := tb.first(h); e != 0; e = tb.next(e) {
				got = append(got, tb.entries[e].id)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d entries, hash %#x: got %v, want %v", n, h, got, want)
			}
		}
		if tb.first(12345) != 0 {
			t.Fatal("found an absent hash")
		}
	}
}

// Validation and numbering split a large input into ranges worked on in parallel:
// the output, the ID map and the error reported do not depend on how many.
func TestJobs(t *testing.T) {
	const n = 300_000 // types: several ranges
	var types []btf.Type
	for i := 0; len(types) < n; i++ {
		types = append(types, intT(fmt.Sprintf("i%d", i%1000), 4), ptr(btf.TypeID(len(types)+1)))
	}
	in := spec(types...)
	first, firstIDs, err := Dedup(in, Options{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Types) != 2000 {
		t.Fatalf("%d types after dedup, want 2000", len(first.Types))
	}
	for _, jobs := range []int{2, 3, 8} {
		got, ids, err := Dedup(in, Options{Jobs: jobs})
		if err != nil {
			t.Fatal(err)
		}
		if dump(got) != dump(first) || !slices.Equal(ids, firstIDs) {
			t.Fatalf("Jobs %d: output differs from Jobs 1", jobs)
		}
	}

	// Two bad references in different ranges: the first is reported.
	bad := slices.Clone(types)
	bad[250_001] = ptr(n + 7)
	bad[150_001] = ptr(n + 9)
	for _, jobs := range []int{1, 2, 8} {
		_, _, err := Dedup(spec(bad...), Options{Jobs: jobs})
		if want := fmt.Sprintf("type [150002] PTR '': malformed BTF: references type [%d]", n+9); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Jobs %d: got %v, want %q", jobs, err, want)
		}
	}
}

// LoadBase refuses what is not a preparation of the base it is given: damaged,
// truncated, of another format, or made for a base of other kinds or size.
func TestLoadBaseRefuses(t *testing.T) {
	base := btf.NewSpec()
	intID := base.Add(btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntBits: 32, IntEncoding: btf.IntSigned})
	base.Add(btf.Type{Kind: btf.KindPtr, Type: intID})
	other := btf.NewSpec()
	other.Add(btf.Type{Kind: btf.KindInt, Name: "int", Size: 4, IntBits: 32, IntEncoding: btf.IntSigned})
	other.Add(btf.Type{Kind: btf.KindConst, Type: intID})
	pb, err := PrepareBase(base)
	if err != nil {
		t.Fatal(err)
	}
	good, err := pb.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBase(base, good); err != nil {
		t.Fatalf("LoadBase of its own preparation: %v", err)
	}
	flip := bytes.Clone(good)
	flip[len(flip)/2] ^= 1
	format := bytes.Clone(good)
	format[8]++
	for name, tc := range map[string]struct {
		base *btf.Spec
		data []byte
	}{
		"damaged":     {base, flip},
		"truncated":   {base, good[:len(good)-8]},
		"format":      {base, format},
		"empty":       {base, nil},
		"other kinds": {other, good},
		"other size":  {btf.NewSpec(), good},
	} {
		if _, err := LoadBase(tc.base, tc.data); !errors.Is(err, ErrPrepared) {
			t.Errorf("%s: %v, want ErrPrepared", name, err)
		}
	}
}
