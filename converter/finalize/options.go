package finalize

import "fmt"

// Compat selects whose function and variable policy Combine reproduces.
type Compat int

const (
	// Pahole124 is pahole 1.24: exact symbol names, first CU wins, per-CPU
	// variables named and sized by their ELF symbols.
	Pahole124 Compat = iota
	// Pahole132 is pahole 1.32 with its default --btf_features: '.'-suffix
	// matching, address checks, inconsistent prototypes dropped, variables named
	// and sized from DWARF.
	Pahole132
)

func (c Compat) String() string {
	switch c {
	case Pahole124:
		return "pahole-1.24"
	case Pahole132:
		return "pahole-1.32"
	}
	return fmt.Sprintf("Compat(%d)", int(c))
}

// InputKind says what kind of input the shards were made from.
type InputKind int

const (
	// ShardInputs decides per shard, by what the encoder recorded
	// (shard.Shard.Linked).
	ShardInputs InputKind = iota
	// LinkedInputs: every shard covers CUs of the image itself; addresses are final
	// (section-relative for an ET_REL image).
	LinkedInputs
	// ObjectInputs: every shard is an ET_REL object that was linked into the image;
	// its addresses are relative to its own sections.
	ObjectInputs
)

// Options configures Combine. The zero value is pahole 1.24's default behaviour.
type Options struct {
	Compat Compat
	Inputs InputKind

	// SkipVars emits no per-CPU VARs, and no VARs or DATASECs at all without
	// GlobalVars (pahole --skip_encoding_btf_vars; the
	// absence of feature "var").
	SkipVars bool
	// GlobalVars also emits every global variable (per-CPU ones too, even with
	// SkipVars, as pahole 1.32), one DATASEC per section
	// (feature global_var). Pahole132 only.
	GlobalVars bool
	// InconsistentFuncs keeps functions whose prototypes differ between CUs,
	// taking the canonical one (feature consistent_func off). Pahole132 only.
	InconsistentFuncs bool
	// SkipDeclTags emits no DECL_TAGs for the btf_decl_tag annotations of
	// functions, parameters and variables (the absence of feature decl_tag).
	SkipDeclTags bool
	// Force skips variables with invalid names or void types instead of failing
	// (pahole --btf_encode_force).
	Force bool
	// TagKfuncs adds a DECL_TAG "bpf_kfunc" (and "bpf_fastcall" where flagged)
	// to the FUNC of every kernel function in a kfunc set of the image's
	// .BTF_ids section (feature decl_tag_kfuncs; see kfuncs.go). Pahole132 only.
	TagKfuncs bool
	// ArenaAttributes is pahole's feature attributes: with TagKfuncs, the
	// pointers a kfunc flagged KF_ARENA_RET/ARG1/ARG2 returns or takes point to
	// a TYPE_TAG "address_space(1)" attribute (kind_flag set) on their target
	// (see arenaProto). Pahole132 only.
	ArenaAttributes bool
	// Jobs is how many shards Combine works on at a time (0: runtime.GOMAXPROCS).
	// The result does not depend on it.
	Jobs int
}

func (o Options) validate() error {
	switch o.Compat {
	case Pahole124, Pahole132:
	default:
		return fmt.Errorf("unknown compatibility mode %d", int(o.Compat))
	}
	switch o.Inputs {
	case ShardInputs, LinkedInputs, ObjectInputs:
	default:
		return fmt.Errorf("unknown input kind %d", int(o.Inputs))
	}
	if o.Compat == Pahole124 && (o.GlobalVars || o.InconsistentFuncs || o.TagKfuncs) {
		return fmt.Errorf("GlobalVars, InconsistentFuncs and TagKfuncs need %v", Pahole132)
	}
	return nil
}
