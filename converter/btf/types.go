// Package btf is the vocabulary every stage of the converter shares: BTF kinds,
// the in-memory type record, and raw (kernel wire format) encoding and decoding.
//
// A Spec is a flat table of types, as the kernel and libbpf see BTF: type IDs are
// positions, ID 0 is void, and every reference between types is a TypeID. This is
// deliberately not a pointer graph (compare cilium/ebpf's btf.Type): the dedup stage
// works on IDs and hashes like libbpf's btf__dedup, and a vmlinux-sized table of
// millions of records must stay compact.
//
// The wire format is documented in the kernel tree, Documentation/bpf/btf.rst
// (https://docs.kernel.org/bpf/btf.html). One link per kind is given on the Kind
// constants below.
//
// Split BTF: a Spec may continue a base Spec (a module's BTF on vmlinux's). Its
// first type then has ID len(base types)+1 and its strings continue the base's
// string section. FirstID records that.
package btf

import (
	"fmt"
	"sync"
)

// TypeID identifies a type within a Spec (and its base, for split BTF). 0 is void.
type TypeID uint32

// Kind is a BTF_KIND_* value.
type Kind uint8

// The BTF kinds, with the kernel's numbering (include/uapi/linux/btf.h).
const (
	KindUnknown   Kind = 0  // void; never stored in a Spec
	KindInt       Kind = 1  // https://docs.kernel.org/bpf/btf.html#btf-kind-int
	KindPtr       Kind = 2  // https://docs.kernel.org/bpf/btf.html#btf-kind-ptr
	KindArray     Kind = 3  // https://docs.kernel.org/bpf/btf.html#btf-kind-array
	KindStruct    Kind = 4  // https://docs.kernel.org/bpf/btf.html#btf-kind-struct
	KindUnion     Kind = 5  // https://docs.kernel.org/bpf/btf.html#btf-kind-union
	KindEnum      Kind = 6  // https://docs.kernel.org/bpf/btf.html#btf-kind-enum
	KindFwd       Kind = 7  // https://docs.kernel.org/bpf/btf.html#btf-kind-fwd
	KindTypedef   Kind = 8  // https://docs.kernel.org/bpf/btf.html#btf-kind-typedef
	KindVolatile  Kind = 9  // https://docs.kernel.org/bpf/btf.html#btf-kind-volatile
	KindConst     Kind = 10 // https://docs.kernel.org/bpf/btf.html#btf-kind-const
	KindRestrict  Kind = 11 // https://docs.kernel.org/bpf/btf.html#btf-kind-restrict
	KindFunc      Kind = 12 // https://docs.kernel.org/bpf/btf.html#btf-kind-func
	KindFuncProto Kind = 13 // https://docs.kernel.org/bpf/btf.html#btf-kind-func-proto
	KindVar       Kind = 14 // https://docs.kernel.org/bpf/btf.html#btf-kind-var
	KindDatasec   Kind = 15 // https://docs.kernel.org/bpf/btf.html#btf-kind-datasec
	KindFloat     Kind = 16 // https://docs.kernel.org/bpf/btf.html#btf-kind-float
	KindDeclTag   Kind = 17 // https://docs.kernel.org/bpf/btf.html#btf-kind-decl-tag
	KindTypeTag   Kind = 18 // https://docs.kernel.org/bpf/btf.html#btf-kind-type-tag
	KindEnum64    Kind = 19 // https://docs.kernel.org/bpf/btf.html#btf-kind-enum64
	NumKinds           = 20
)

var kindNames = [NumKinds]string{
	"UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
	"VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC",
	"FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64",
}

// String returns the kernel's name for the kind, as bpftool prints it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("KIND(%d)", uint8(k))
}

// KindByName returns the kind whose String is name.
func KindByName(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return Kind(k), true
		}
	}
	return 0, false
}

// INT encoding bits (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL).
const (
	IntSigned uint8 = 1 << 0
	IntChar   uint8 = 1 << 1
	IntBool   uint8 = 1 << 2
)

// Linkage of a FUNC (BTF_FUNC_*) or VAR (BTF_VAR_*).
const (
	LinkageStatic    uint32 = 0 // FUNC and VAR
	LinkageGlobal    uint32 = 1 // FUNC; VAR: global allocated
	LinkageExtern    uint32 = 2 // FUNC and VAR
	LinkageGlobalVar uint32 = 1 // VAR: BTF_VAR_GLOBAL_ALLOCATED
)

// Type is one BTF type record. Which fields are meaningful depends on Kind:
//
//	kind          Name  KindFlag          Size    Type        other
//	INT           yes   -                 bytes   -           IntEncoding, IntOffset, IntBits
//	PTR           -     -                 -       pointee
//	ARRAY         -     -                 -       element     IndexType, Nelems
//	STRUCT/UNION  opt   bitfield members  bytes   -           Members (Offset in bits, Size = bitfield size)
//	ENUM          opt   signed            bytes   -           Members (Value, 32-bit)
//	ENUM64        opt   signed            bytes   -           Members (Value, 64-bit)
//	FWD           yes   union             -       -
//	TYPEDEF       yes   -                 -       target
//	VOLATILE/CONST/RESTRICT  -            -       target
//	TYPE_TAG      yes   -                 -       target
//	FUNC          yes   -                 -       FUNC_PROTO  Linkage
//	FUNC_PROTO    -     -                 -       return      Members (params: Name, Type; varargs = last param with Type 0 and no name)
//	VAR           yes   -                 -       type        Linkage
//	DATASEC       yes   -                 bytes   -           Members (Type = VAR, Offset, Size in bytes)
//	FLOAT         yes   -                 bytes   -
//	DECL_TAG      yes   -                 -       target      ComponentIdx (-1: the target itself)
//
// Checklist for adding a kind: the constant and its name above, the table here,
// the raw encoder and decoder (raw.go), the dedup stage's hash and equivalence
// functions, and the diff's canonical form.
type Type struct {
	Name     string
	Kind     Kind
	KindFlag bool

	IntEncoding uint8 // INT: IntSigned | IntChar | IntBool
	IntOffset   uint8 // INT: bit offset of the value (always 0 from compilers)
	IntBits     uint8 // INT: number of value bits

	Size         uint32 // byte size for sized kinds
	Type         TypeID // the referenced type for reference kinds
	IndexType    TypeID // ARRAY
	Nelems       uint32 // ARRAY
	Linkage      uint32 // FUNC, VAR
	ComponentIdx int32  // DECL_TAG

	Members []Member
}

// Member is one element of a type's variable-length part: a struct or union member,
// an enum value, a function parameter or a DATASEC variable.
//
// An enumerator's 64-bit value is kept in Offset (low 32 bits) and Size (high 32
// bits), which enums do not otherwise use, as BTF's own btf_enum64 splits it: a
// vmlinux-sized merge holds millions of members, and a separate field would make
// each 40 bytes instead of 32. Use Value, SetValue and Enumerator.
type Member struct {
	Name   string
	Type   TypeID // member, parameter or VAR type; unused for enums
	Offset uint32 // STRUCT/UNION: bit offset; DATASEC: byte offset; ENUM/ENUM64: value, low 32 bits
	Size   uint32 // STRUCT/UNION: bitfield size in bits (0: not a bitfield); DATASEC: byte size; ENUM/ENUM64: value, high 32 bits
}

// Enumerator returns the member of an ENUM or ENUM64 named name with value v.
func Enumerator(name string, v uint64) Member {
	m := Member{Name: name}
	m.SetValue(v)
	return m
}

// Value returns an enumerator's value (sign-extended from 32 bits for a signed
// ENUM).
func (m *Member) Value() uint64 { return uint64(m.Offset) | uint64(m.Size)<<32 }

// SetValue sets an enumerator's value.
func (m *Member) SetValue(v uint64) { m.Offset, m.Size = uint32(v), uint32(v>>32) }

// Vlen is the number of members, as in the type's info word.
func (t *Type) Vlen() int { return len(t.Members) }

// IsComposite reports whether the kind is STRUCT or UNION.
func (k Kind) IsComposite() bool { return k == KindStruct || k == KindUnion }

// IsEnum reports whether the kind is ENUM or ENUM64, whose members are
// enumerators (Member.Value).
func (k Kind) IsEnum() bool { return k == KindEnum || k == KindEnum64 }

// HasRef reports whether Type.Type is a reference for this kind.
func (k Kind) HasRef() bool {
	switch k {
	case KindPtr, KindArray, KindTypedef, KindVolatile, KindConst, KindRestrict,
		KindFunc, KindFuncProto, KindVar, KindDeclTag, KindTypeTag:
		return true
	}
	return false
}

// Spec is a table of types. Types[i] has ID FirstID+i. For a standalone Spec,
// FirstID is 1 and Base is nil; for split BTF, Base is the base Spec and FirstID is
// one past the base's last ID.
type Spec struct {
	Base    *Spec
	FirstID TypeID
	Types   []Type

	// strings is the string section this Spec was parsed from (nil if built in
	// memory). Split BTF marshalled on this Spec as base references it (raw.go).
	strings *stringTable
	// records is the type section this Spec was parsed from, if little-endian: Table
	// returns it as it is.
	records []byte
	// lazy is set for a Spec parsed without decoding its types (ParseTrusted):
	// Types stays empty until something needs it (DecodeTypes).
	lazy *lazyTypes
}

// lazyTypes are the undecoded types of a Spec: its records, indexed.
type lazyTypes struct {
	offs []uint32
	once sync.Once
}

// Len is the number of types of s (not counting its base's).
func (s *Spec) Len() int {
	if s.lazy != nil {
		return len(s.lazy.offs)
	}
	return len(s.Types)
}

// DecodeTypes fills in Types of a Spec parsed by ParseTrusted, which leaves them
// undecoded until needed; for any other Spec it does nothing. The methods of Spec
// call it where they need Types; a caller that reads Types of a Spec it did not
// make itself (a base) calls it first.
func (s *Spec) DecodeTypes() {
	if s == nil || s.lazy == nil {
		return
	}
	s.lazy.once.Do(func() {
		t := &Table{first: s.FirstID, strs: s.strings, recs: s.records, offs: s.lazy.offs}
		types := make([]Type, len(s.lazy.offs))
		var members []Member
		for i := range types {
			members = t.Decode(s.FirstID+TypeID(i), &types[i], members[len(members):])
		}
		s.Types = types
	})
}

// NewSpec returns an empty standalone Spec.
func NewSpec() *Spec { return &Spec{FirstID: 1} }

// NewSplitSpec returns an empty Spec that continues base.
func NewSplitSpec(base *Spec) *Spec {
	return &Spec{Base: base, FirstID: base.NextID()}
}

// NextID is the ID the next added type gets.
func (s *Spec) NextID() TypeID { return s.FirstID + TypeID(s.Len()) }

// Add appends t and returns its ID.
func (s *Spec) Add(t Type) TypeID {
	s.DecodeTypes()
	s.lazy = nil
	s.Types = append(s.Types, t)
	return s.NextID() - 1
}

// Type returns the type with the given ID, looking in the base for base IDs. It
// returns nil for void (0) and for IDs out of range.
func (s *Spec) Type(id TypeID) *Type {
	if id == 0 {
		return nil
	}
	if id < s.FirstID {
		if s.Base == nil {
			return nil
		}
		return s.Base.Type(id)
	}
	i := int(id - s.FirstID)
	if i >= s.Len() {
		return nil
	}
	s.DecodeTypes()
	return &s.Types[i]
}

// kindOf returns the kind of type id, in s or its bases (KindUnknown for void and
// IDs out of range), without decoding the types of a Spec parsed by ParseTrusted.
func (s *Spec) kindOf(id TypeID) Kind {
	for s != nil && id < s.FirstID {
		s = s.Base
	}
	if s == nil || id == 0 || int(id-s.FirstID) >= s.Len() {
		return KindUnknown
	}
	i := int(id - s.FirstID)
	if s.lazy != nil {
		return Kind(s.records[s.lazy.offs[i]+7] & 0x1f)
	}
	return s.Types[i].Kind
}

// Rebase returns a copy of the standalone Spec s as split BTF on base: every type
// moves up by base's type count, and references move with it (0, void, stays 0). s
// must not reference the base; deduplication (package dedup) then maps its types to
// equal base types.
func (s *Spec) Rebase(base *Spec) (*Spec, error) {
	if s.Base != nil || s.FirstID != 1 {
		return nil, fmt.Errorf("btf: rebase: spec is already split (first ID %d)", s.FirstID)
	}
	s.DecodeTypes()
	out := NewSplitSpec(base)
	shift := out.FirstID - 1
	move := func(id TypeID) TypeID {
		if id == 0 {
			return 0
		}
		return id + shift
	}
	out.Types = make([]Type, len(s.Types))
	for i := range s.Types {
		t := s.Types[i]
		t.Type = move(t.Type)
		t.IndexType = move(t.IndexType)
		if len(t.Members) > 0 {
			t.Members = append([]Member(nil), t.Members...)
			for j := range t.Members {
				if !t.Kind.IsEnum() {
					t.Members[j].Type = move(t.Members[j].Type)
				}
			}
		}
		out.Types[i] = t
	}
	return out, nil
}
