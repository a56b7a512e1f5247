package btf

import "testing"

func TestRebase(t *testing.T) {
	base := NewSpec()
	base.Add(Type{Kind: KindInt, Name: "int", Size: 4, IntBits: 32, IntEncoding: IntSigned})
	base.Add(Type{Kind: KindPtr, Type: 1})

	s := NewSpec()
	i := s.Add(Type{Kind: KindInt, Name: "long", Size: 8, IntBits: 64})
	p := s.Add(Type{Kind: KindPtr, Type: i})
	s.Add(Type{Kind: KindStruct, Name: "s", Size: 16, Members: []Member{{Name: "a", Type: i}, {Name: "b", Type: p, Offset: 64}}})
	s.Add(Type{Kind: KindEnum, Name: "e", Size: 4, Members: []Member{Enumerator("A", 7)}})
	s.Add(Type{Kind: KindArray, Type: p, IndexType: i, Nelems: 3})
	s.Add(Type{Kind: KindPtr}) // void *

	r, err := s.Rebase(base)
	if err != nil {
		t.Fatal(err)
	}
	if r.FirstID != 3 || r.Base != base || len(r.Types) != len(s.Types) {
		t.Fatalf("rebased spec: first %d, %d types", r.FirstID, len(r.Types))
	}
	for _, c := range []struct {
		id   TypeID
		what string
		got  TypeID
		want TypeID
	}{
		{4, "ptr target", r.Type(4).Type, 3},
		{5, "member a", r.Type(5).Members[0].Type, 3},
		{5, "member b", r.Type(5).Members[1].Type, 4},
		{7, "array elem", r.Type(7).Type, 4},
		{7, "array index", r.Type(7).IndexType, 3},
		{8, "void ptr", r.Type(8).Type, 0},
	} {
		if c.got != c.want {
			t.Errorf("type %d %s: got %d, want %d", c.id, c.what, c.got, c.want)
		}
	}
	if r.Type(6).Members[0].Type != 0 || r.Type(6).Members[0].Value() != 7 {
		t.Error("enum values must not be treated as references")
	}
	if s.Types[2].Members[0].Type != 1 {
		t.Error("Rebase modified its input")
	}
	if _, err := r.Rebase(base); err == nil {
		t.Error("rebasing a split spec must fail")
	}
}
