package dedup

import (
	"bytes"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// Signatures and shallow comparisons of types, one family per kind group, as libbpf
// has them. "Shallow" means the type's own fields without the referenced types: the
// name, the info word (kind, kind flag, vlen; for FUNC the linkage sits in vlen) and
// the size/type word, compared as the record holds them.
//
// Hashes only pick candidates: every candidate is confirmed by an equality check,
// and candidates are tried in an order fixed by the insertions alone (table.go), so
// the output never depends on the hash values.

const mulK = 0x9E3779B97F4A7C15

// mix folds v into h.
func mix(h, v uint64) uint64 {
	h ^= v
	h *= mulK
	return h ^ h>>31
}

// sizeWord is the size/type word for kinds without references (the referring kinds
// are handled with their resolved reference).
func sizeWord(t rec) uint32 {
	switch t.kind() {
	case btf.KindInt, btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64,
		btf.KindDatasec, btf.KindFloat:
		return t.sizeType()
	}
	return 0
}

// infoEqual compares name and info word.
func infoEqual(a, b rec) bool { return a.name() == b.name() && a.info() == b.info() }

// hashCommon covers name, info and size word: FWD, FLOAT (and, with the resolved
// reference as size word, the reference kinds).
func hashCommon(t rec, word uint32) uint64 {
	h := mix(0, uint64(t.name()))
	h = mix(h, uint64(t.info()))
	return mix(h, uint64(word))
}

// hashTypedef covers a TYPEDEF's name and info, not its referenced type: libbpf
// 1.7.0 looks typedefs up by it in the struct pass, where the graph walk compares
// the referenced types.
func hashTypedef(t rec) uint64 {
	return mix(mix(0x74797065, uint64(t.name())), uint64(t.info()))
}

// equalCommon is libbpf's btf_equal_common for types without references.
func equalCommon(a, b rec) bool { return infoEqual(a, b) && sizeWord(a) == sizeWord(b) }

func hashInt(t rec) uint64 { return mix(hashCommon(t, t.sizeType()), uint64(t.extra())) }

func equalInt(a, b rec) bool { return equalCommon(a, b) && a.extra() == b.extra() }

// hashEnum covers the name only, so that an enum forward declaration (no values,
// perhaps another size) lands with its definition.
func hashEnum(t rec) uint64 { return mix(0x656e756d, uint64(t.name())) }

// equalEnum compares two enums of the same kind with their values, which the
// records hold as the wire format does (32 bits for ENUM).
func equalEnum(a, b rec) bool { return equalCommon(a, b) && bytes.Equal(a.members(), b.members()) }

func isEnumFwd(t rec) bool { return t.kind().IsEnum() && t.vlen() == 0 }

// compatEnum is equalEnum, except that an enum forward declaration matches any enum
// or enum64 of its name.
func compatEnum(a, b rec) bool {
	if !isEnumFwd(a) && !isEnumFwd(b) {
		return equalEnum(a, b)
	}
	return a.name() == b.name() && a.kind().IsEnum() && b.kind().IsEnum()
}

// hashStruct covers name, info, size and member names and offsets, not the member
// types, which are not known to be canonical when structs are compared.
func hashStruct(t rec) uint64 {
	h := hashCommon(t, t.sizeType())
	for i := range t.vlen() {
		h = mix(h, uint64(t.memberName(i))|uint64(t.memberOffset(i))<<32)
	}
	return h
}

// shallowEqualStruct compares what hashStruct covers.
func shallowEqualStruct(a, b rec) bool {
	if !equalCommon(a, b) {
		return false
	}
	for i := range a.vlen() {
		if a.memberName(i) != b.memberName(i) || a.memberOffset(i) != b.memberOffset(i) {
			return false
		}
	}
	return true
}

// compatArray compares an ARRAY's own fields (the size word is 0 for arrays).
func compatArray(a, b rec) bool { return infoEqual(a, b) && a.nelems() == b.nelems() }

// compatFuncProto compares a FUNC_PROTO's own fields: info and parameter names.
func compatFuncProto(a, b rec) bool {
	if !infoEqual(a, b) {
		return false
	}
	for i := range a.vlen() {
		if a.memberName(i) != b.memberName(i) {
			return false
		}
	}
	return true
}

// hashDeclTag covers a DECL_TAG with its (resolved) target and component index.
func hashDeclTag(t rec, ref uint32) uint64 { return mix(hashCommon(t, ref), uint64(t.extra())) }

// hashArray covers an ARRAY with its (resolved) element and index types.
func hashArray(t rec, elem, index uint32) uint64 {
	h := hashCommon(t, 0)
	h = mix(h, uint64(elem)|uint64(index)<<32)
	return mix(h, uint64(t.nelems()))
}

// hashFuncProto covers a FUNC_PROTO with its (resolved) return and parameter types.
func hashFuncProto(t rec, ret uint32, params []uint32) uint64 {
	h := hashCommon(t, ret)
	for i := range t.vlen() {
		h = mix(h, uint64(t.memberName(i))|uint64(params[i])<<32)
	}
	return h
}

// hashFuncProtoStored is hashFuncProto with the references as stored (base types).
func hashFuncProtoStored(t rec) uint64 {
	h := hashCommon(t, t.ref())
	for i := range t.vlen() {
		h = mix(h, uint64(t.memberName(i))|uint64(t.memberType(i))<<32)
	}
	return h
}
