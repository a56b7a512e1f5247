package dedup

import (
	"encoding/binary"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// rec is one type as the dedup reads it: its wire record (struct btf_type and its
// kind's tail, include/uapi/linux/btf.h), little-endian, as a btf.Table holds it,
// perhaps followed by other records (btf.Table.RecordFrom): its size is read from
// its header, by the accessors that need it.
// Names are offsets into one string section in which equal names have equal
// offsets (btf.Table interns them), so the dedup compares and hashes names as
// integers, as libbpf does after deduplicating strings.
type rec []byte

// voidRec is the record of ID 0.
var voidRec = make(rec, 12)

func (r rec) u32(off int) uint32 { return binary.LittleEndian.Uint32(r[off:]) }

func (r rec) name() uint32 { return r.u32(0) }

// info is the info word: vlen (a FUNC's linkage), kind and kind flag.
func (r rec) info() uint32     { return r.u32(4) }
func (r rec) kind() btf.Kind   { return btf.Kind(r[7] & 0x1f) }
func (r rec) kindFlag() bool   { return r[7]&0x80 != 0 }
func (r rec) sizeType() uint32 { return r.u32(8) }

// vlen is the number of members of the kinds that have them.
func (r rec) vlen() int {
	switch r.kind() {
	case btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64, btf.KindFuncProto, btf.KindDatasec:
		return int(r.u32(4) & 0xffff)
	}
	return 0
}

// ref is the referenced type of the kinds with one (btf.Kind.HasRef): an ARRAY's
// element type, else the size/type word.
func (r rec) ref() uint32 {
	if r.kind() == btf.KindArray {
		return r.u32(12)
	}
	return r.u32(8)
}

func (r rec) index() uint32  { return r.u32(16) } // ARRAY
func (r rec) nelems() uint32 { return r.u32(20) } // ARRAY

// extra is the one-word tail of INT (encoding), VAR (linkage) and DECL_TAG
// (component index).
func (r rec) extra() uint32 { return r.u32(12) }

// members is the part after struct btf_type of the kinds with members.
func (r rec) members() []byte { return r[12 : 12+r.vlen()*r.stride()] }

// stride is the size of one member record.
func (r rec) stride() int {
	switch r.kind() {
	case btf.KindEnum, btf.KindFuncProto:
		return 8 // btf_enum, btf_param
	}
	return 12 // btf_member, btf_enum64, btf_var_secinfo
}

// memberName is member i's name (not for DATASEC, whose entries have none).
func (r rec) memberName(i int) uint32 { return r.u32(12 + i*r.stride()) }

// memberType is member i's type: a STRUCT or UNION member's, a FUNC_PROTO
// parameter's or a DATASEC entry's.
func (r rec) memberType(i int) uint32 {
	switch r.kind() {
	case btf.KindDatasec:
		return r.u32(12 + 12*i)
	case btf.KindFuncProto:
		return r.u32(12 + 8*i + 4)
	}
	return r.u32(12 + 12*i + 4)
}

// memberOffset is a STRUCT or UNION member's offset word (with the kind flag, the
// bitfield size in its top byte).
func (r rec) memberOffset(i int) uint32 { return r.u32(12 + 12*i + 8) }

// hasRefMembers reports whether the members' types are references.
func hasRefMembers(k btf.Kind) bool {
	return k.IsComposite() || k == btf.KindFuncProto || k == btf.KindDatasec
}
