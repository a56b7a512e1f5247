package dedup

import (
	"hash/maphash"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Signatures and shallow comparisons of types, one family per kind group, as libbpf
// has them. "Shallow" means the type's own fields without the referenced types; the
// wire format's info word (kind, kind flag, vlen; for FUNC the linkage sits in vlen)
// and its size/type word are compared field by field here.
//
// Hashes only pick candidates: every candidate is confirmed by an equality check,
// and candidates are tried in an order fixed by the insertions alone (table.go), so
// the output never depends on the hash values (and the random maphash seed is
// harmless).

var seed = maphash.MakeSeed()

const mulK = 0x9E3779B97F4A7C15

// mix folds v into h.
func mix(h, v uint64) uint64 {
	h ^= v
	h *= mulK
	return h ^ h>>31
}

func hashString(h uint64, s string) uint64 {
	if s == "" {
		return mix(h, 0x5bd1e995)
	}
	return mix(h, maphash.String(seed, s))
}

// vlen is the info word's vlen field: the member count, or a FUNC's linkage.
func vlen(t *btf.Type) uint32 {
	if t.Kind == btf.KindFunc {
		return t.Linkage
	}
	return uint32(len(t.Members))
}

// info stands for the wire format's info word: kind, kind flag and vlen.
func info(t *btf.Type) uint64 {
	i := uint64(t.Kind)<<40 | uint64(vlen(t))
	if t.KindFlag {
		i |= 1 << 39
	}
	return i
}

// sizeWord is the wire format's size/type word for kinds without references (the
// referring kinds are handled with their resolved reference).
func sizeWord(t *btf.Type) uint32 {
	switch t.Kind {
	case btf.KindInt, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64,
		btf.KindDatasec, btf.KindFloat:
		return t.Size
	}
	return 0
}

// infoEqual compares name and info word.
func infoEqual(a, b *btf.Type) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.KindFlag == b.KindFlag && vlen(a) == vlen(b)
}

// hashCommon covers name, info and size word: FWD, FLOAT (and, with the resolved
// reference as size word, the reference kinds).
func hashCommon(t *btf.Type, word uint32) uint64 {
	h := hashString(0, t.Name)
	h = mix(h, info(t))
	return mix(h, uint64(word))
}

// hashTypedef covers a TYPEDEF's name and info, not its referenced type: libbpf
// 1.7.0 looks typedefs up by it in the struct pass, where the graph walk compares
// the referenced types.
func hashTypedef(t *btf.Type) uint64 {
	return mix(hashString(0x74797065, t.Name), info(t))
}

// equalCommon is libbpf's btf_equal_common for types without references.
func equalCommon(a, b *btf.Type) bool {
	return infoEqual(a, b) && sizeWord(a) == sizeWord(b)
}

// intWord is INT's extra word.
func intWord(t *btf.Type) uint64 {
	return uint64(t.IntEncoding)<<24 | uint64(t.IntOffset)<<16 | uint64(t.IntBits)
}

func hashInt(t *btf.Type) uint64 {
	return mix(hashCommon(t, t.Size), intWord(t))
}

func equalInt(a, b *btf.Type) bool {
	return equalCommon(a, b) && intWord(a) == intWord(b)
}

// hashEnum covers the name only, so that an enum forward declaration (no values,
// perhaps another size) lands with its definition.
func hashEnum(t *btf.Type) uint64 {
	return hashString(0x656e756d, t.Name)
}

// enumValue is a value as the wire format holds it: 32 bits for ENUM.
func enumValue(k btf.Kind, v uint64) uint64 {
	if k == btf.KindEnum {
		return v & 0xffffffff
	}
	return v
}

func equalEnum(a, b *btf.Type) bool {
	if !equalCommon(a, b) {
		return false
	}
	for i := range a.Members {
		ma, mb := &a.Members[i], &b.Members[i]
		if ma.Name != mb.Name || enumValue(a.Kind, ma.Value()) != enumValue(b.Kind, mb.Value()) {
			return false
		}
	}
	return true
}

func isEnumFwd(t *btf.Type) bool {
	return t.Kind.IsEnum() && len(t.Members) == 0
}

// compatEnum is equalEnum, except that an enum forward declaration matches any enum
// or enum64 of its name.
func compatEnum(a, b *btf.Type) bool {
	if !isEnumFwd(a) && !isEnumFwd(b) {
		return equalEnum(a, b)
	}
	return a.Name == b.Name && a.Kind.IsEnum() && b.Kind.IsEnum()
}

// hashStruct covers name, info, size and member names and offsets, not the member
// types, which are not known to be canonical when structs are compared.
func hashStruct(t *btf.Type) uint64 {
	h := hashCommon(t, t.Size)
	for i := range t.Members {
		m := &t.Members[i]
		h = hashString(h, m.Name)
		h = mix(h, uint64(m.Offset)|uint64(m.Size)<<32)
	}
	return h
}

// shallowEqualStruct compares what hashStruct covers.
func shallowEqualStruct(a, b *btf.Type) bool {
	if !equalCommon(a, b) {
		return false
	}
	for i := range a.Members {
		ma, mb := &a.Members[i], &b.Members[i]
		if ma.Name != mb.Name || ma.Offset != mb.Offset || ma.Size != mb.Size {
			return false
		}
	}
	return true
}

// compatArray compares an ARRAY's own fields (the size word is 0 for arrays).
func compatArray(a, b *btf.Type) bool {
	return infoEqual(a, b) && a.Nelems == b.Nelems
}

// compatFuncProto compares a FUNC_PROTO's own fields: info and parameter names.
func compatFuncProto(a, b *btf.Type) bool {
	if !infoEqual(a, b) {
		return false
	}
	for i := range a.Members {
		if a.Members[i].Name != b.Members[i].Name {
			return false
		}
	}
	return true
}

// hashDeclTag covers a DECL_TAG with its (resolved) target and component index.
func hashDeclTag(t *btf.Type, ref uint32) uint64 {
	return mix(hashCommon(t, ref), uint64(uint32(t.ComponentIdx)))
}

// hashArray covers an ARRAY with its (resolved) element and index types.
func hashArray(t *btf.Type, elem, index uint32) uint64 {
	h := hashCommon(t, 0)
	h = mix(h, uint64(elem)|uint64(index)<<32)
	return mix(h, uint64(t.Nelems))
}

// hashFuncProto covers a FUNC_PROTO with its (resolved) return and parameter types.
func hashFuncProto(t *btf.Type, ret uint32, params []uint32) uint64 {
	h := hashCommon(t, ret)
	for i := range t.Members {
		h = hashString(h, t.Members[i].Name)
		h = mix(h, uint64(params[i]))
	}
	return h
}

// hashFuncProtoStored is hashFuncProto with the references as stored (base types).
func hashFuncProtoStored(t *btf.Type) uint64 {
	h := hashCommon(t, uint32(t.Type))
	for i := range t.Members {
		h = hashString(h, t.Members[i].Name)
		h = mix(h, uint64(t.Members[i].Type))
	}
	return h
}
