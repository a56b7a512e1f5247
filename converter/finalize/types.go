package finalize

import "github.com/rules-btf/rules_btf/converter/btf"

// maxChain bounds how many references sizeOf and typesMatch follow, so that a
// malformed shard with a reference cycle (PTR to itself) cannot hang them.
const maxChain = 256

// sizeOf is the byte size of type id as pahole's tag__size computes it for a
// variable's type: modifiers and typedefs are followed, a pointer has the address
// size, an array is its element size times its length, a forward declaration or a
// function has size 0. ok is false for void, IDs out of range and cycles.
func sizeOf(spec *btf.Table, id btf.TypeID, addrSize uint64) (size uint64, ok bool) {
	mult := uint64(1)
	for range maxChain {
		t := spec.Type(id)
		if t == nil {
			return 0, false
		}
		switch t.Kind {
		case btf.KindInt, btf.KindFloat, btf.KindStruct, btf.KindUnion,
			btf.KindEnum, btf.KindEnum64, btf.KindDatasec:
			return mult * uint64(t.Size), true
		case btf.KindPtr:
			return mult * addrSize, true
		case btf.KindArray:
			mult *= uint64(t.Nelems)
			id = t.Type
		case btf.KindTypedef, btf.KindVolatile, btf.KindConst, btf.KindRestrict, btf.KindTypeTag:
			id = t.Type
		default: // FWD, FUNC, FUNC_PROTO, VAR, DECL_TAG
			return 0, true
		}
	}
	return 0, false
}

// typeRef names a type of one shard.
type typeRef struct {
	spec *btf.Table
	id   btf.TypeID
}

// fwdKind is the kind a FWD stands for, as pahole's fwd__kind.
func fwdKind(t *btf.Type) btf.Kind {
	if t.Kind == btf.KindFwd {
		if t.KindFlag {
			return btf.KindUnion
		}
		return btf.KindStruct
	}
	return t.Kind
}

// typesMatch is pahole 1.32's types__match: the loose comparison that decides
// whether two prototypes of one function are consistent. Named aggregates and
// typedefs match by name alone, a FWD matches the struct or union it declares, and a
// CONST on one side only is skipped (so "const char *" matches "char *").
func typesMatch(a, b typeRef, depth int) bool {
	if depth > maxChain {
		return false
	}
	for range maxChain {
		if a.spec == b.spec && a.id == b.id {
			return true
		}
		if a.id == 0 || b.id == 0 {
			return a.id == b.id
		}
		t1, t2 := a.spec.Type(a.id), b.spec.Type(b.id)
		if t1 == nil || t2 == nil {
			return false
		}
		k1, k2 := fwdKind(t1), fwdKind(t2)
		if k1 != k2 {
			switch {
			case k1 == btf.KindConst:
				a.id = t1.Type
				continue
			case k2 == btf.KindConst:
				b.id = t2.Type
				continue
			}
			return false
		}
		switch k1 {
		case btf.KindInt:
			return t1.Size == t2.Size && t1.IntEncoding == t2.IntEncoding &&
				t1.IntOffset == t2.IntOffset && t1.IntBits == t2.IntBits && t1.Name == t2.Name
		case btf.KindFloat:
			return t1.Size == t2.Size && t1.Name == t2.Name
		case btf.KindTypedef, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64:
			return t1.Name == t2.Name
		case btf.KindPtr, btf.KindVolatile, btf.KindConst, btf.KindRestrict, btf.KindTypeTag:
			a.id, b.id = t1.Type, t2.Type
		case btf.KindArray:
			if t1.Nelems != t2.Nelems {
				return false
			}
			a.id, b.id = t1.Type, t2.Type
		case btf.KindFuncProto:
			return protosMatch(a.spec, t1, b.spec, t2, depth+1)
		default:
			return false
		}
	}
	return false
}

// protosMatch compares two FUNC_PROTOs as pahole's funcs__match compares two saved
// function states: parameter count, return type, then each parameter's type (names
// are not compared).
func protosMatch(s1 *btf.Table, p1 *btf.Type, s2 *btf.Table, p2 *btf.Type, depth int) bool {
	if len(p1.Members) != len(p2.Members) {
		return false
	}
	if !typesMatch(typeRef{s1, p1.Type}, typeRef{s2, p2.Type}, depth) {
		return false
	}
	for i := range p1.Members {
		if !typesMatch(typeRef{s1, p1.Members[i].Type}, typeRef{s2, p2.Members[i].Type}, depth) {
			return false
		}
	}
	return true
}
