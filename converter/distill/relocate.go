package distill

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Relocate returns split, which is split BTF on a distilled base (split.Base, as
// Distill returns it or as read from a module's .BTF.base), as split BTF on base, a
// full base such as vmlinux's BTF: the kernel's and libbpf's btf_relocate (see the
// package documentation for the matching rules). Neither input is modified.
func Relocate(split, base *btf.Spec) (*btf.Spec, error) {
	dist := split.Base
	if dist == nil || dist.Base != nil || dist.FirstID != 1 {
		return nil, fmt.Errorf("relocate: %w on a standalone distilled base", ErrNotSplit)
	}
	if base == dist {
		return nil, fmt.Errorf("relocate: the base is the distilled base itself")
	}
	nDist := dist.NextID() // distilled base IDs are 1..nDist-1
	for i := range dist.Types {
		t := &dist.Types[i]
		switch t.Kind {
		case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindStruct, btf.KindUnion, btf.KindFwd:
			if t.Name == "" {
				return nil, fmt.Errorf("relocate: distilled base type ID %d (%s) is anonymous: %w", i+1, t.Kind, ErrUnexpectedKind)
			}
		default:
			return nil, fmt.Errorf("relocate: distilled base type ID %d (%s %q): %w in a distilled base", i+1, t.Kind, t.Name, ErrUnexpectedKind)
		}
	}

	// Distilled base structs and unions that a split struct or union embeds (through
	// typedefs, qualifiers and arrays, not pointers) must keep their size.
	embedded := make([]bool, nDist)
	for i := range split.Types {
		t := &split.Types[i]
		if !t.Kind.IsComposite() {
			continue
		}
		for _, m := range t.Members {
			for id, n := m.Type, 0; id != 0 && n <= len(split.Types)+int(nDist); n++ {
				mt := split.Type(id)
				if mt == nil {
					break
				}
				switch mt.Kind {
				case btf.KindConst, btf.KindRestrict, btf.KindVolatile, btf.KindTypedef, btf.KindTypeTag, btf.KindArray:
					id = mt.Type
					continue
				case btf.KindStruct, btf.KindUnion:
					if id < nDist {
						embedded[id] = true
					}
				}
				break
			}
		}
	}

	// Distilled base types sorted by name, then size: a base type's candidates are
	// a run of this list.
	byName := make([]btf.TypeID, 0, len(dist.Types))
	for id := btf.TypeID(1); id < nDist; id++ {
		byName = append(byName, id)
	}
	slices.SortFunc(byName, func(a, b btf.TypeID) int {
		ta, tb := dist.Type(a), dist.Type(b)
		return cmp.Or(cmp.Compare(ta.Name, tb.Name), cmp.Compare(ta.Size, tb.Size), cmp.Compare(a, b))
	})

	// How many named structs and unions share each name in the base: where several
	// do, the size decides.
	composites := make(map[string]int)
	for id := btf.TypeID(1); id < base.NextID(); id++ {
		if t := base.Type(id); t.Kind.IsComposite() && t.Name != "" {
			composites[t.Name]++
		}
	}

	// The matches: match[d] is the base ID of distilled base type d.
	match := make([]btf.TypeID, nDist)
	for id := btf.TypeID(1); id < base.NextID(); id++ {
		bt := base.Type(id)
		if bt.Name == "" {
			continue
		}
		needSize := false
		switch bt.Kind {
		case btf.KindInt, btf.KindFloat, btf.KindEnum, btf.KindEnum64:
			needSize = true
		case btf.KindFwd:
		case btf.KindStruct, btf.KindUnion:
			needSize = composites[bt.Name] > 1
		default:
			continue
		}
		lo, _ := slices.BinarySearchFunc(byName, bt.Name, func(d btf.TypeID, name string) int {
			return cmp.Compare(dist.Type(d).Name, name)
		})
		for _, d := range byName[lo:] {
			dt := dist.Type(d)
			if dt.Name != bt.Name {
				break
			}
			if needSize && dt.Size != bt.Size {
				continue
			}
			if !compatible(dt, bt, embedded[d]) {
				continue
			}
			if match[d] != 0 {
				return nil, fmt.Errorf("relocate: distilled base type ID %d (%s %q, size %d) matches base type IDs %d and %d: %w",
					d, dt.Kind, dt.Name, dt.Size, match[d], id, ErrNoMatch)
			}
			match[d] = id
			// As in libbpf, the size requirement of an embedded type is kept only
			// until it has a match: a second candidate of another size is then
			// ambiguous too.
			embedded[d] = false
		}
	}
	for d := btf.TypeID(1); d < nDist; d++ {
		if match[d] == 0 {
			dt := dist.Type(d)
			return nil, fmt.Errorf("relocate: distilled base type ID %d (%s %q, size %d) matches no base type: %w", d, dt.Kind, dt.Name, dt.Size, ErrNoMatch)
		}
	}

	// Rewrite: distilled base IDs to their matches, split IDs to continue the base.
	out := btf.NewSplitSpec(base)
	shift := out.FirstID - nDist
	out.Types = make([]btf.Type, len(split.Types))
	for i := range split.Types {
		out.Types[i] = cloneType(&split.Types[i])
		for ref := range refs(&out.Types[i]) {
			switch id := *ref; {
			case id == 0:
			case id < nDist:
				*ref = match[id]
			default:
				*ref = id + shift
			}
		}
	}
	return out, nil
}

// compatible reports whether base type bt (of a name, and size where that is
// required, that dt has) may stand for distilled base type dt.
func compatible(dt, bt *btf.Type, embedded bool) bool {
	switch dt.Kind {
	case btf.KindFwd:
		switch bt.Kind {
		case btf.KindFwd:
			return dt.KindFlag == bt.KindFlag
		case btf.KindStruct:
			return !bt.KindFlag // libbpf tests kind_flag (bitfields), not the kind
		case btf.KindUnion:
			return bt.KindFlag
		}
		return false
	case btf.KindInt:
		return bt.Kind == btf.KindInt && bt.IntEncoding == dt.IntEncoding
	case btf.KindFloat:
		return bt.Kind == btf.KindFloat
	case btf.KindEnum:
		return bt.Kind.IsEnum()
	case btf.KindStruct, btf.KindUnion:
		return !embedded || bt.Size == dt.Size
	}
	return false
}
