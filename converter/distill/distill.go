package distill

import (
	"errors"
	"fmt"
	"iter"

	"github.com/rules-btf/rules_btf/converter/btf"
)

var (
	// ErrNotSplit is returned (wrapped) by Distill for a Spec without a base, and by
	// Relocate for a Spec whose base is not a distilled base.
	ErrNotSplit = errors.New("not split BTF")
	// ErrUnexpectedKind is returned (wrapped) when split BTF refers to a base type
	// that cannot be distilled (VAR, FUNC, DATASEC, DECL_TAG), or when a distilled
	// base holds a type it cannot hold.
	ErrUnexpectedKind = errors.New("unexpected kind")
	// ErrNoMatch is returned (wrapped) by Relocate when a distilled base type has no
	// match in the base, or more than one.
	ErrNoMatch = errors.New("no unique match in the base")
)

// Distill returns a distilled base for the split Spec and the split types re-encoded
// on it (the returned split's Base is the distilled base). See the package
// documentation for what goes where. split is not modified; the result shares no
// memory with it.
func Distill(split *btf.Spec) (base, newSplit *btf.Spec, err error) {
	if split.Base == nil || split.FirstID <= 1 {
		return nil, nil, fmt.Errorf("distill: %w (a base is needed: only a module's BTF on vmlinux's is distilled)", ErrNotSplit)
	}
	start := split.FirstID // the first split ID; base IDs are 1..start-1

	// Pass 1: reach. marked[id] for base IDs, filled with an explicit stack
	// (base type graphs can be deep).
	marked := make([]bool, start)
	var stack []btf.TypeID
	reach := func(from btf.TypeID, t *btf.Type) error {
		for ref := range refs(t) {
			id := *ref
			if id == 0 || id >= start || marked[id] {
				continue
			}
			bt := split.Type(id)
			if bt == nil {
				return fmt.Errorf("distill: type ID %d (%s %q) refers to type ID %d, which does not exist", from, t.Kind, t.Name, id)
			}
			if !distillable(bt.Kind) {
				return fmt.Errorf("distill: type ID %d (%s %q) refers to base type ID %d (%s %q): %w in a distilled base",
					from, t.Kind, t.Name, id, bt.Kind, bt.Name, ErrUnexpectedKind)
			}
			marked[id] = true
			// A named struct or union is kept without its members.
			if !(bt.Kind.IsComposite() && bt.Name != "") {
				stack = append(stack, id)
			}
		}
		return nil
	}
	for i := range split.Types {
		if err := reach(start+btf.TypeID(i), &split.Types[i]); err != nil {
			return nil, nil, err
		}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := reach(id, split.Type(id)); err != nil {
				return nil, nil, err
			}
		}
	}

	// Pass 2: the distilled base, in base ID order. newID maps every marked base
	// ID to its ID in the output (distilled base or new split).
	newID := make([]btf.TypeID, start)
	base = btf.NewSpec()
	var copied []btf.TypeID // marked base IDs that go to the split, in ID order
	for id := btf.TypeID(1); id < start; id++ {
		if !marked[id] {
			continue
		}
		t := split.Type(id)
		var d btf.Type
		switch {
		case t.Kind == btf.KindInt || t.Kind == btf.KindFloat || t.Kind == btf.KindFwd:
			d = *t
		case t.Kind.IsComposite() && t.Name != "":
			d = btf.Type{Kind: t.Kind, Name: t.Name, Size: t.Size}
		case (t.Kind == btf.KindEnum || t.Kind == btf.KindEnum64) && t.Name != "":
			d = btf.Type{Kind: btf.KindEnum, Name: t.Name, Size: t.Size}
		default:
			copied = append(copied, id)
			continue
		}
		newID[id] = base.Add(d)
	}

	// Pass 3: the split types, then the copied base types.
	newSplit = btf.NewSplitSpec(base)
	newSplit.Types = make([]btf.Type, 0, len(split.Types)+len(copied))
	for i := range split.Types {
		newSplit.Types = append(newSplit.Types, cloneType(&split.Types[i]))
	}
	for _, id := range copied {
		newID[id] = newSplit.FirstID + btf.TypeID(len(newSplit.Types))
		newSplit.Types = append(newSplit.Types, cloneType(split.Type(id)))
	}

	// Pass 4: remap references.
	shift := start - newSplit.FirstID
	for i := range newSplit.Types {
		for ref := range refs(&newSplit.Types[i]) {
			switch id := *ref; {
			case id == 0:
			case id < start:
				*ref = newID[id] // marked in pass 1, so set in pass 2 or 3
			default:
				*ref = id - shift
			}
		}
	}
	return base, newSplit, nil
}

// distillable reports whether a base type of kind k may be referenced by split BTF
// that is distilled (libbpf's list).
func distillable(k btf.Kind) bool {
	switch k {
	case btf.KindInt, btf.KindFloat, btf.KindFwd, btf.KindArray, btf.KindStruct, btf.KindUnion,
		btf.KindTypedef, btf.KindEnum, btf.KindEnum64, btf.KindPtr, btf.KindConst,
		btf.KindRestrict, btf.KindVolatile, btf.KindFuncProto, btf.KindTypeTag:
		return true
	}
	return false
}

// refs yields a pointer to each type ID field of t, in record order (libbpf's
// BTF_FIELD_ITER_IDS): the referenced type, an array's index type, the members',
// parameters' or variables' types. Enum values are not references.
func refs(t *btf.Type) iter.Seq[*btf.TypeID] {
	return func(yield func(*btf.TypeID) bool) {
		switch t.Kind {
		case btf.KindArray:
			if !yield(&t.Type) || !yield(&t.IndexType) {
				return
			}
		case btf.KindStruct, btf.KindUnion, btf.KindDatasec:
			for i := range t.Members {
				if !yield(&t.Members[i].Type) {
					return
				}
			}
		case btf.KindFuncProto:
			if !yield(&t.Type) {
				return
			}
			for i := range t.Members {
				if !yield(&t.Members[i].Type) {
					return
				}
			}
		default:
			if t.Kind.HasRef() {
				yield(&t.Type)
			}
		}
	}
}

// cloneType returns a copy of t that shares no memory with it.
func cloneType(t *btf.Type) btf.Type {
	c := *t
	if t.Members != nil {
		c.Members = append([]btf.Member(nil), t.Members...)
	}
	return c
}
