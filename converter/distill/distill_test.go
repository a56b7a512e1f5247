package distill

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// check distills s and compares the distilled base and new split with the
// expected dumps (one type per line, see dump).
func check(t *testing.T, s *btf.Spec, wantBase, wantSplit string) (*btf.Spec, *btf.Spec) {
	t.Helper()
	base, out, err := Distill(s)
	if err != nil {
		t.Fatal(err)
	}
	if out.Base != base || base.FirstID != 1 || base.Base != nil || out.FirstID != base.NextID() {
		t.Fatalf("distilled split is not split on the distilled base (first IDs %d, %d)", base.FirstID, out.FirstID)
	}
	trim := func(s string) string { return strings.TrimLeft(strings.ReplaceAll(s, "\t", ""), "\n") }
	if got, want := dump(base), trim(wantBase); got != want {
		t.Errorf("distilled base:\n%s\nwant:\n%s", got, want)
	}
	if got, want := dump(out), trim(wantSplit); got != want {
		t.Errorf("split:\n%s\nwant:\n%s", got, want)
	}
	return base, out
}

// The package documentation's example.
func TestWorkedExample(t *testing.T) {
	base := spec(
		intT("int", 4, btf.IntSigned),                                   // 1
		structT("list_head", 16, mem("next", 3, 0), mem("prev", 3, 64)), // 2
		ptr(2),                         // 3
		typedef("u32", 5),              // 4
		intT("unsigned int", 4, 0),     // 5
		structT("", 4, mem("a", 1, 0)), // 6
		structT("task_struct", 64, mem("pid", 1, 0)), // 7
		varT("jiffies", 1),                           // 8
	)
	s := split(base,
		structT("mod", 48, mem("l", 2, 0), mem("p", 3, 128), mem("x", 4, 192), mem("a", 6, 224)), // 9
		ptr(9), // 10
	)
	dbase, out := check(t, s, `
		[1] INT "int" size=4 enc=1 bits=32
		[2] STRUCT "list_head" size=16
		[3] INT "unsigned int" size=4 enc=0 bits=32
		`, `
		[4] STRUCT "mod" size=48 l:2@0/0 p:6@128/0 x:7@192/0 a:8@224/0
		[5] PTR "" -> 4
		[6] PTR "" -> 2
		[7] TYPEDEF "u32" -> 3
		[8] STRUCT "" size=4 a:1@0/0
		`)

	// On the wire: the distilled base's strings in type order; the split's own
	// strings in order of first use, without the names the base has.
	le := binary.LittleEndian
	rawBase, err := dbase.Marshal(btf.MarshalOptions{ByteOrder: le})
	if err != nil {
		t.Fatal(err)
	}
	rawSplit, err := out.Marshal(btf.MarshalOptions{ByteOrder: le})
	if err != nil {
		t.Fatal(err)
	}
	strs := func(raw []byte) string {
		off, n := 24+le.Uint32(raw[16:]), le.Uint32(raw[20:])
		return string(raw[off : off+n])
	}
	if got, want := strs(rawBase), "\x00int\x00list_head\x00unsigned int\x00"; got != want {
		t.Errorf("distilled base strings %q, want %q", got, want)
	}
	if got, want := strs(rawSplit), "mod\x00l\x00p\x00x\x00a\x00u32\x00"; got != want {
		t.Errorf("split strings %q, want %q", got, want)
	}
	pb, err := btf.Parse(rawBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := btf.Parse(rawSplit, pb)
	if err != nil {
		t.Fatal(err)
	}
	if dump(pb) != dump(dbase) || dump(ps) != dump(out) {
		t.Errorf("marshalled and parsed back:\n%s%s\nwant:\n%s%s", dump(pb), dump(ps), dump(dbase), dump(out))
	}
}

// INT, FLOAT and FWD go to the distilled base as they are (encoding, kind_flag).
func TestPrimitivesToBase(t *testing.T) {
	base := spec(
		intT("_Bool", 1, btf.IntBool), // 1
		floatT("double", 8),           // 2
		fwd("sk", false),              // 3
		fwd("un", true),               // 4
		intT("char", 1, btf.IntChar),  // 5 (not referenced)
	)
	s := split(base, structT("m", 16, mem("b", 1, 0), mem("d", 2, 64)), ptr(3), ptr(4))
	check(t, s, `
		[1] INT "_Bool" size=1 enc=4 bits=8
		[2] FLOAT "double" size=8
		[3] FWD "sk"
		[4] FWD "un" kflag
		`, `
		[5] STRUCT "m" size=16 b:1@0/0 d:2@64/0
		[6] PTR "" -> 3
		[7] PTR "" -> 4
		`)
}

// Named structs and unions are kept by kind, name and size: no members (so what the
// members refer to is not reached) and no kind_flag (it describes the members).
func TestNamedCompositesWithoutMembers(t *testing.T) {
	bits := structT("bits", 4, btf.Member{Name: "a", Type: 1, Size: 3})
	bits.KindFlag = true
	base := spec(
		intT("char", 1, btf.IntChar),       // 1: only the members refer to it
		bits,                               // 2
		unionT("u", 8, mem("c", 1, 0)),     // 3
		structT("ptrs", 8, mem("p", 5, 0)), // 4
		ptr(4),                             // 5: only ptrs refers to it
	)
	s := split(base, structT("m", 12, mem("b", 2, 0), mem("u", 3, 32)), ptr(4))
	check(t, s, `
		[1] STRUCT "bits" size=4
		[2] UNION "u" size=8
		[3] STRUCT "ptrs" size=8
		`, `
		[4] STRUCT "m" size=12 b:1@0/0 u:2@32/0
		[5] PTR "" -> 3
		`)
}

// Named ENUM and ENUM64 are kept as a valueless, unsigned ENUM of their name and
// size; anonymous ones are copied into the split BTF whole.
func TestEnums(t *testing.T) {
	signed := enumT("e", 4, val("A", 1))
	signed.KindFlag = true
	base := spec(
		signed,                             // 1
		enum64T("e64", 8, val("B", 1<<40)), // 2
		enumT("", 4, val("C", 2)),          // 3
		enum64T("", 8, val("D", 3)),        // 4
		enumT("unused", 4, val("E", 4)),    // 5
	)
	s := split(base, structT("m", 24, mem("a", 1, 0), mem("b", 2, 64), mem("c", 3, 128), mem("d", 4, 192)))
	check(t, s, `
		[1] ENUM "e" size=4
		[2] ENUM "e64" size=8
		`, `
		[3] STRUCT "m" size=24 a:1@0/0 b:2@64/0 c:4@128/0 d:5@192/0
		[4] ENUM "" size=4 C=2
		[5] ENUM64 "" size=8 D=3
		`)
}

// Anonymous structs and unions are copied whole, and what their members refer to is
// reached.
func TestAnonymousCompositesCopied(t *testing.T) {
	base := spec(
		intT("int", 4, btf.IntSigned),                   // 1
		structT("named", 4, mem("x", 1, 0)),             // 2
		unionT("", 4, mem("i", 1, 0), mem("n", 2, 0)),   // 3
		structT("", 8, mem("u", 3, 0), mem("j", 1, 32)), // 4
	)
	s := split(base, structT("m", 8, mem("s", 4, 0)))
	check(t, s, `
		[1] INT "int" size=4 enc=1 bits=32
		[2] STRUCT "named" size=4
		`, `
		[3] STRUCT "m" size=8 s:5@0/0
		[4] UNION "" size=4 i:1@0/0 n:2@0/0
		[5] STRUCT "" size=8 u:4@0/0 j:1@32/0
		`)
}

// Every reference kind is copied into the split BTF, after the split's own types and
// in base ID order, and is followed: an array's element and index types, a
// prototype's return and parameter types.
func TestReferenceKindsCopied(t *testing.T) {
	base := spec(
		intT("int", 4, btf.IntSigned),                        // 1
		intT("long", 8, btf.IntSigned),                       // 2
		ref(btf.KindConst, "", 1),                            // 3
		ref(btf.KindVolatile, "", 3),                         // 4
		ref(btf.KindRestrict, "", 6),                         // 5
		ptr(4),                                               // 6
		ref(btf.KindTypeTag, "user", 1),                      // 7
		array(7, 2, 4),                                       // 8
		proto(1, param("a", 5), param("b", 8), param("", 0)), // 9
		ptr(9),              // 10
		typedef("fn_t", 10), // 11
	)
	s := split(base, structT("m", 8, mem("f", 11, 0)))
	check(t, s, `
		[1] INT "int" size=4 enc=1 bits=32
		[2] INT "long" size=8 enc=1 bits=64
		`, `
		[3] STRUCT "m" size=8 f:12@0/0
		[4] CONST "" -> 1
		[5] VOLATILE "" -> 4
		[6] RESTRICT "" -> 7
		[7] PTR "" -> 5
		[8] TYPE_TAG "user" -> 1
		[9] ARRAY "" elem=8 index=2 n=4
		[10] FUNC_PROTO "" ret=1 a:6 b:9 :0
		[11] PTR "" -> 10
		[12] TYPEDEF "fn_t" -> 11
		`)
}

// Split types of every kind keep their order, and their references to each other
// move down with the smaller base; only referenced base types are kept.
func TestSplitKindsRemapped(t *testing.T) {
	base := spec(
		intT("int", 4, btf.IntSigned), // 1
		intT("unused", 4, 0),          // 2
		ptr(2),                        // 3: unused
	)
	s := split(base,
		proto(1, param("x", 1)), // 4
		funcT("f", 4),           // 5
		varT("v", 1),            // 6
		datasec(".data", 4, btf.Member{Type: 6, Offset: 0, Size: 4}), // 7
		declTag("tag", 5, -1), // 8
		declTag("ptag", 5, 0), // 9
	)
	check(t, s, `
		[1] INT "int" size=4 enc=1 bits=32
		`, `
		[2] FUNC_PROTO "" ret=1 x:1
		[3] FUNC "f" -> 2
		[4] VAR "v" -> 1
		[5] DATASEC ".data" size=4 :4@0/4
		[6] DECL_TAG "tag" -> 3
		[7] DECL_TAG "ptag" -> 3
		`)
}

// A split type with no reference into the base, and an empty split: an empty
// distilled base.
func TestNothingFromBase(t *testing.T) {
	base := spec(intT("int", 4, btf.IntSigned))
	check(t, split(base, structT("empty", 0)), "", `
		[1] STRUCT "empty" size=0
		`)
	check(t, split(base), "", "")
}

// A module has no business referring to the base's variables, functions, sections
// or tags: distilling such BTF is an error (libbpf refuses it too).
func TestUnexpectedBaseKinds(t *testing.T) {
	base := spec(
		intT("int", 4, btf.IntSigned), // 1
		proto(1),                      // 2
		funcT("f", 2),                 // 3
		varT("v", 1),                  // 4
		datasec(".data", 4, btf.Member{Type: 4, Size: 4}), // 5
		declTag("t", 3, -1), // 6
	)
	for _, tc := range []struct {
		name string
		t    btf.Type
	}{
		{"FUNC", declTag("x", 3, -1)},
		{"VAR", datasec(".bss", 4, btf.Member{Type: 4, Size: 4})},
		{"DATASEC", ptr(5)},
		{"DECL_TAG", ptr(6)},
	} {
		_, _, err := Distill(split(base, tc.t))
		if !errors.Is(err, ErrUnexpectedKind) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("reference to a base %s: error %v, want %v naming it", tc.name, err, ErrUnexpectedKind)
		}
	}
	// A prototype in the base is fine.
	if _, _, err := Distill(split(base, ptr(2))); err != nil {
		t.Errorf("reference to a base FUNC_PROTO: %v", err)
	}
}

func TestNotSplit(t *testing.T) {
	if _, _, err := Distill(spec(intT("int", 4, btf.IntSigned))); !errors.Is(err, ErrNotSplit) {
		t.Errorf("standalone BTF: error %v, want %v", err, ErrNotSplit)
	}
}

// The input is not modified, the output shares no memory with it, and the same
// input gives the same output.
func TestInputUntouchedAndDeterministic(t *testing.T) {
	mk := func() *btf.Spec {
		base := spec(intT("int", 4, btf.IntSigned), structT("", 4, mem("a", 1, 0)), ptr(2))
		return split(base, structT("m", 16, mem("a", 2, 0), mem("p", 3, 64)), ptr(4))
	}
	s := mk()
	_, out1, err := Distill(s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, mk()) {
		t.Fatal("Distill modified its input")
	}
	_, out2, err := Distill(s)
	if err != nil {
		t.Fatal(err)
	}
	if dump(out1.Base)+dump(out1) != dump(out2.Base)+dump(out2) {
		t.Error("two runs differ")
	}
	out1.Types[0].Members[0].Type = 99
	if s.Types[0].Members[0].Type == 99 {
		t.Error("the output shares members with the input")
	}
}
