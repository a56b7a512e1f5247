// Package shard defines a shard: the BTF of one input (an object file, or a range of
// compilation units of one big ELF) plus what only the linked image can decide.
//
// A shard's types are complete and self-contained (a standalone btf.Table, IDs from 1):
// every struct, typedef and FUNC_PROTO that its compilation units describe, before
// deduplication across shards. What a shard cannot decide alone is left as
// candidates:
//
//   - Funcs: every subprogram the DWARF describes that could become a BTF FUNC.
//     Which ones do is decided against the linked ELF's symbol table (see package
//     finalize), as pahole does for the whole binary.
//   - Vars: every variable with a static location (or a declaration of one); the
//     linked ELF decides which are per-CPU variables and at what offset.
//
// The file format is described in format.go.
package shard

import "github.com/rules-btf/rules_btf/converter/btf"

// Shard is the result of converting one input.
type Shard struct {
	// Source names the input, for messages: an object path, or "path#cus=i/N".
	Source string
	// Linked is true when the shard was made from compilation units of a linked
	// image itself (an executable, a shared object or a kernel module), so that
	// its addresses are the image's (section-relative for a module); false for
	// an object file that is linked into an image later, whose addresses are
	// relative to its own sections.
	Linked bool
	// Types holds the shard's types; IDs start at 1. A Table, not a Spec: a
	// vmlinux-sized set of shards holds millions of types between the encoder
	// and the merge (see btf.Table).
	Types *btf.Table
	// CUs are the compilation units the shard covers, in input order.
	CUs []CU
	// Funcs and Vars are candidates, in DWARF order (CU order, then DIE order).
	Funcs []Func
	Vars  []Var
}

// CU describes one compilation unit that contributed to a shard.
type CU struct {
	Name   string // DW_AT_name: the primary source file
	Offset uint64 // offset of the unit header in .debug_info
	// TypesEnd is one past the ID of the unit's last type (FUNC_PROTOs of its
	// function candidates included): the unit's types are the IDs from the
	// previous unit's TypesEnd (1 for the first unit) to TypesEnd-1.
	TypesEnd btf.TypeID
}

// Func is a function candidate: one DW_TAG_subprogram (with its abstract origin and
// specification, if any, already folded in).
type Func struct {
	Name  string
	Proto btf.TypeID // a FUNC_PROTO in the shard's Types; parameter names included
	CU    uint32     // index into Shard.CUs

	External    bool   // DW_AT_external
	Declaration bool   // DW_AT_declaration
	Inline      bool   // DW_AT_inline says declared or actually inlined (an abstract instance)
	HasLowPC    bool   // has DW_AT_low_pc (or DW_AT_ranges / DW_AT_entry_pc): an out-of-line copy exists
	LowPC       uint64 // address of the out-of-line copy, if HasLowPC (section-relative in ET_REL)

	// AllParamsNamed is false when a parameter (other than varargs) has no name:
	// pahole skips such functions.
	AllParamsNamed bool
	// What pahole 1.32 concludes from where the parameters are on entry
	// (converter/encode/params.go has the rules): OptimizedParams when a
	// parameter has no location, or one without a register, or only a constant
	// value; UnexpectedReg when a parameter is not in the register the calling
	// convention assigns (and no parameter is a struct); ReorderedParams when an
	// out-of-line copy lists its parameters in another order than its abstract
	// origin; SignatureChanged when clang marked the function DW_CC_nocall.
	// pahole >= 1.25 (optimized_func) uses these; 1.24 does not.
	OptimizedParams  bool
	UnexpectedReg    bool
	ReorderedParams  bool
	SignatureChanged bool
	// UncertainParamLoc: a parameter past the argument registers is a packed
	// struct passed by value (pahole 1.32's ftype__has_uncertain_arg_loc).
	UncertainParamLoc bool

	// DeclTags are the btf_decl_tag annotations of the function (Component -1) and
	// of its parameters (Component = parameter index), in DWARF order.
	DeclTags []DeclTag
}

// DeclTag is one btf_decl_tag annotation of a function, a parameter or a variable:
// it becomes a DECL_TAG whose target is the FUNC or VAR, if that is emitted.
type DeclTag struct {
	Value     string
	Component int32 // -1: the function or variable itself; else the parameter index
}

// Var is a variable candidate: one DW_TAG_variable at file scope or with a static
// location.
type Var struct {
	Name string
	Type btf.TypeID // in the shard's Types
	CU   uint32     // index into Shard.CUs

	External    bool // DW_AT_external
	Declaration bool // DW_AT_declaration with no definition in this CU
	// Specification is true for a definition whose DIE has DW_AT_specification:
	// its name and type come from the declaration it names, it has no name of
	// its own (pahole 1.24 compares the DIE's own name at address 0).
	Specification bool
	// TopLevel is true for a variable declared at the top level of its unit
	// (not a function's static); Artificial for one the compiler made up
	// (DW_AT_artificial). pahole 1.32 encodes neither function statics nor
	// artificial variables.
	TopLevel   bool
	Artificial bool
	HasAddr    bool // location is a single DW_OP_addr
	Addr       uint64
	// Section is the name of the ELF section the address is in, when known (from the
	// relocation's symbol in ET_REL objects, from section addresses otherwise).
	Section string

	// DeclTags are the variable's btf_decl_tag annotations (Component -1).
	DeclTags []DeclTag
}
