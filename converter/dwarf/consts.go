package dwarf

import "fmt"

// Tag is a DW_TAG_* value. Only the tags the converter looks at are named.
type Tag uint32

// DWARF 5 section 7.5.3, table 7.3; vendor tags from LLVM and GCC.
const (
	TagArrayType              Tag = 0x01
	TagClassType              Tag = 0x02
	TagEnumerationType        Tag = 0x04
	TagFormalParameter        Tag = 0x05
	TagLabel                  Tag = 0x0a
	TagLexicalBlock           Tag = 0x0b
	TagMember                 Tag = 0x0d
	TagPointerType            Tag = 0x0f
	TagReferenceType          Tag = 0x10
	TagCompileUnit            Tag = 0x11
	TagStringType             Tag = 0x12
	TagStructType             Tag = 0x13
	TagSubroutineType         Tag = 0x15
	TagTypedef                Tag = 0x16
	TagUnionType              Tag = 0x17
	TagUnspecifiedParameters  Tag = 0x18
	TagVariant                Tag = 0x19
	TagInlinedSubroutine      Tag = 0x1d
	TagPtrToMemberType        Tag = 0x1f
	TagSubrangeType           Tag = 0x21
	TagBaseType               Tag = 0x24
	TagConstType              Tag = 0x26
	TagEnumerator             Tag = 0x28
	TagSubprogram             Tag = 0x2e
	TagVariable               Tag = 0x34
	TagVolatileType           Tag = 0x35
	TagRestrictType           Tag = 0x37
	TagInterfaceType          Tag = 0x38
	TagNamespace              Tag = 0x39
	TagUnspecifiedType        Tag = 0x3b
	TagPartialUnit            Tag = 0x3c
	TagImportedUnit           Tag = 0x3d
	TagTypeUnit               Tag = 0x41
	TagRvalueReferenceType    Tag = 0x42
	TagAtomicType             Tag = 0x47
	TagCallSite               Tag = 0x48
	TagSkeletonUnit           Tag = 0x4a
	TagLLVMAnnotation         Tag = 0x6000 // clang: btf_decl_tag, btf_type_tag
	TagGNUAnnotation          Tag = 0x6001 // GCC >= 16: btf_decl_tag, btf_type_tag (see AttrGNUAnnotation)
	TagGNUCallSite            Tag = 0x4109
	TagGNUFormalParameterPack Tag = 0x4108
)

var tagNames = map[Tag]string{
	TagArrayType: "array_type", TagClassType: "class_type", TagEnumerationType: "enumeration_type",
	TagFormalParameter: "formal_parameter", TagLabel: "label", TagLexicalBlock: "lexical_block",
	TagMember: "member", TagPointerType: "pointer_type", TagReferenceType: "reference_type",
	TagCompileUnit: "compile_unit", TagStringType: "string_type", TagStructType: "structure_type",
	TagSubroutineType: "subroutine_type", TagTypedef: "typedef", TagUnionType: "union_type",
	TagUnspecifiedParameters: "unspecified_parameters", TagVariant: "variant",
	TagInlinedSubroutine: "inlined_subroutine", TagPtrToMemberType: "ptr_to_member_type",
	TagSubrangeType: "subrange_type", TagBaseType: "base_type", TagConstType: "const_type",
	TagEnumerator: "enumerator", TagSubprogram: "subprogram", TagVariable: "variable",
	TagVolatileType: "volatile_type", TagRestrictType: "restrict_type", TagInterfaceType: "interface_type",
	TagNamespace: "namespace", TagUnspecifiedType: "unspecified_type", TagPartialUnit: "partial_unit",
	TagImportedUnit: "imported_unit", TagTypeUnit: "type_unit", TagRvalueReferenceType: "rvalue_reference_type",
	TagAtomicType: "atomic_type", TagCallSite: "call_site", TagSkeletonUnit: "skeleton_unit",
	TagLLVMAnnotation: "LLVM_annotation", TagGNUAnnotation: "GNU_annotation", TagGNUCallSite: "GNU_call_site",
}

func (t Tag) String() string {
	if n, ok := tagNames[t]; ok {
		return "DW_TAG_" + n
	}
	return fmt.Sprintf("DW_TAG_%#x", uint32(t))
}

// Form is a DW_FORM_* value (DWARF 5 section 7.5.6, table 7.6).
type Form uint16

const (
	FormAddr          Form = 0x01
	FormBlock2        Form = 0x03
	FormBlock4        Form = 0x04
	FormData2         Form = 0x05
	FormData4         Form = 0x06
	FormData8         Form = 0x07
	FormString        Form = 0x08
	FormBlock         Form = 0x09
	FormBlock1        Form = 0x0a
	FormData1         Form = 0x0b
	FormFlag          Form = 0x0c
	FormSdata         Form = 0x0d
	FormStrp          Form = 0x0e
	FormUdata         Form = 0x0f
	FormRefAddr       Form = 0x10
	FormRef1          Form = 0x11
	FormRef2          Form = 0x12
	FormRef4          Form = 0x13
	FormRef8          Form = 0x14
	FormRefUdata      Form = 0x15
	FormIndirect      Form = 0x16
	FormSecOffset     Form = 0x17
	FormExprloc       Form = 0x18
	FormFlagPresent   Form = 0x19
	FormStrx          Form = 0x1a
	FormAddrx         Form = 0x1b
	FormRefSup4       Form = 0x1c
	FormStrpSup       Form = 0x1d
	FormData16        Form = 0x1e
	FormLineStrp      Form = 0x1f
	FormRefSig8       Form = 0x20
	FormImplicitConst Form = 0x21
	FormLoclistx      Form = 0x22
	FormRnglistx      Form = 0x23
	FormRefSup8       Form = 0x24
	FormStrx1         Form = 0x25
	FormStrx2         Form = 0x26
	FormStrx3         Form = 0x27
	FormStrx4         Form = 0x28
	FormAddrx1        Form = 0x29
	FormAddrx2        Form = 0x2a
	FormAddrx3        Form = 0x2b
	FormAddrx4        Form = 0x2c
	FormGNUAddrIndex  Form = 0x1f01
	FormGNUStrIndex   Form = 0x1f02
	FormGNURefAlt     Form = 0x1f20
	FormGNUStrpAlt    Form = 0x1f21
)

func (f Form) String() string { return fmt.Sprintf("DW_FORM_%#x", uint16(f)) }

// IsRef reports whether the form is a reference to a DIE (resolved by the reader
// to a .debug_info offset, except ref_sig8 and the supplementary-file forms).
func (f Form) IsRef() bool {
	switch f {
	case FormRef1, FormRef2, FormRef4, FormRef8, FormRefUdata, FormRefAddr,
		FormRefSig8, FormRefSup4, FormRefSup8, FormGNURefAlt:
		return true
	}
	return false
}

// IsBlock reports whether values of the form are byte blocks (Entry.Block).
func (f Form) IsBlock() bool {
	switch f {
	case FormBlock, FormBlock1, FormBlock2, FormBlock4, FormExprloc, FormData16:
		return true
	}
	return false
}

// IsString reports whether values of the form are strings (Reader.String).
func (f Form) IsString() bool {
	switch f {
	case FormString, FormStrp, FormLineStrp, FormStrx, FormStrx1, FormStrx2, FormStrx3,
		FormStrx4, FormGNUStrIndex, FormStrpSup, FormGNUStrpAlt:
		return true
	}
	return false
}

// IsSigned reports whether a constant of this form is signed (sdata,
// implicit_const) rather than of unknown signedness (dataN, udata).
func (f Form) IsSigned() bool { return f == FormSdata || f == FormImplicitConst }

// Attr is the index of one of the attributes the reader decodes; every other
// attribute is skipped.
type Attr uint8

// The decoded attributes. DW_AT_* codes are in atCodes.
const (
	AttrName Attr = iota
	AttrType
	AttrByteSize
	AttrBitSize
	AttrDataBitOffset
	AttrBitOffset
	AttrDataMemberLocation
	AttrEncoding
	AttrUpperBound
	AttrCount
	AttrConstValue
	AttrDeclaration
	AttrExternal
	AttrSpecification
	AttrAbstractOrigin
	AttrLocation
	AttrLowPC
	AttrHighPC
	AttrRanges
	AttrEntryPC
	AttrInline
	AttrPrototyped
	AttrLanguage
	AttrProducer
	AttrSibling
	AttrStrOffsetsBase
	AttrAddrBase
	AttrRnglistsBase
	AttrLoclistsBase
	AttrCallingConvention
	AttrArtificial
	AttrGNUAnnotation // GCC >= 16: btf_decl_tag and btf_type_tag, a chain of DW_TAG_GNU_annotation DIEs
	NumAttrs
)

// atCodes maps each Attr to its DW_AT_* code (DWARF 5 table 7.5).
var atCodes = [NumAttrs]uint32{
	AttrName: 0x03, AttrType: 0x49, AttrByteSize: 0x0b, AttrBitSize: 0x0d,
	AttrDataBitOffset: 0x6b, AttrBitOffset: 0x0c, AttrDataMemberLocation: 0x38,
	AttrEncoding: 0x3e, AttrUpperBound: 0x2f, AttrCount: 0x37, AttrConstValue: 0x1c,
	AttrDeclaration: 0x3c, AttrExternal: 0x3f, AttrSpecification: 0x47,
	AttrAbstractOrigin: 0x31, AttrLocation: 0x02, AttrLowPC: 0x11, AttrHighPC: 0x12,
	AttrRanges: 0x55, AttrEntryPC: 0x52, AttrInline: 0x20, AttrPrototyped: 0x27,
	AttrLanguage: 0x13, AttrProducer: 0x25, AttrSibling: 0x01, AttrStrOffsetsBase: 0x72,
	AttrAddrBase: 0x73, AttrRnglistsBase: 0x74, AttrLoclistsBase: 0x8c,
	AttrCallingConvention: 0x36, AttrArtificial: 0x34,
	AttrGNUAnnotation: 0x2139, // GCC include/dwarf2.def; pahole dutil.h
}

// ATCode returns the DW_AT_* code of a.
func (a Attr) ATCode() uint32 { return atCodes[a] }

const noAttr = 0xff

// attrIndex maps a DW_AT code to an Attr, or noAttr.
var attrIndex [0x90]uint8

func init() {
	for i := range attrIndex {
		attrIndex[i] = noAttr
	}
	for a, c := range atCodes {
		if c < uint32(len(attrIndex)) {
			attrIndex[c] = uint8(a)
		}
	}
}

func lookupAttr(code uint64) uint8 {
	if code < uint64(len(attrIndex)) {
		return attrIndex[code]
	}
	switch code {
	case 0x2133: // DW_AT_GNU_addr_base (pre-standard split DWARF)
		return uint8(AttrAddrBase)
	case 0x2139:
		return uint8(AttrGNUAnnotation)
	}
	return noAttr
}

// DW_ATE_* base type encodings (DWARF 5 table 7.11).
const (
	ATEAddress        = 0x01
	ATEBoolean        = 0x02
	ATEComplexFloat   = 0x03
	ATEFloat          = 0x04
	ATESigned         = 0x05
	ATESignedChar     = 0x06
	ATEUnsigned       = 0x07
	ATEUnsignedChar   = 0x08
	ATEImaginaryFloat = 0x09
	ATEUTF            = 0x10
)

// DW_OP_* opcodes the converter interprets.
const (
	OpAddr       = 0x03
	OpPlusUconst = 0x23
	OpAddrx      = 0xa1
	OpGNUAddrIdx = 0xfb
)

// DW_UT_* unit types (DWARF 5 table 7.2).
const (
	UTCompile      = 0x01
	UTType         = 0x02
	UTPartial      = 0x03
	UTSkeleton     = 0x04
	UTSplitCompile = 0x05
	UTSplitType    = 0x06
)
