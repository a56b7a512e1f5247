package encode

import (
	"fmt"
	"strings"
)

// Feature selects optional BTF kinds, like pahole's --btf_features.
type Feature uint32

const (
	// FeatureFloat encodes DW_ATE_float base types as FLOAT (pahole
	// --btf_gen_floats); without it they become INT with no encoding.
	FeatureFloat Feature = 1 << iota
	// FeatureEnum64 encodes enums wider than 4 bytes as ENUM64; without it they
	// become ENUM with values truncated to 32 bits (pahole
	// --skip_encoding_btf_enum64).
	FeatureEnum64
	// FeatureDeclTag encodes btf_decl_tag annotations of structs, unions, their
	// members and typedefs as DECL_TAG, and records those of functions, their
	// parameters and variables in the candidates' DeclTags (pahole
	// --skip_encoding_btf_decl_tag turns all of them off).
	FeatureDeclTag
	// FeatureTypeTag encodes btf_type_tag annotations of pointers as TYPE_TAG.
	FeatureTypeTag
)

// Compat chooses the pahole version whose behaviour is reproduced where
// versions differ.
type Compat uint8

const (
	// Compat132 is pahole 1.32 (Debian sid's release, checked on vmlinux):
	// unspecified types (DW_TAG_unspecified_type) are void, integers wider than
	// 16 bytes are sanitized like other odd sizes, GCC's btf_decl_tag and
	// btf_type_tag annotations (DW_AT_GNU_annotation) are read,
	// multi-dimensional arrays nest.
	Compat132 Compat = iota
	// Compat124 is pahole 1.24: references to DW_TAG_atomic_type become void
	// (1.24 drops the DIE) instead of referring through to the qualified type;
	// only clang's annotations (DW_TAG_LLVM_annotation) are read.
	Compat124
)

// Options are the settings of the encode stage.
type Options struct {
	Features Feature
	Compat   Compat
	// LangExclude lists DW_AT_language values (pahole's names: "rust", "c89",
	// "c_plus_plus", ... or numbers) whose compilation units are skipped, like
	// pahole --lang_exclude.
	LangExclude []string
}

// DefaultOptions are pahole's defaults for a kernel build: all features and Rust
// units excluded.
func DefaultOptions() Options {
	return Options{
		Features:    FeatureFloat | FeatureEnum64 | FeatureDeclTag | FeatureTypeTag,
		LangExclude: []string{"rust"},
	}
}

// langCodes maps pahole's language names (lang__str2int, DW_LANG_* without the
// prefix, lower case) to DW_LANG codes (DWARF 5 table 7.17).
var langCodes = map[string]uint64{
	"c89": 0x01, "c": 0x02, "ada83": 0x03, "c_plus_plus": 0x04, "cobol74": 0x05,
	"cobol85": 0x06, "fortran77": 0x07, "fortran90": 0x08, "pascal83": 0x09,
	"modula2": 0x0a, "java": 0x0b, "c99": 0x0c, "ada95": 0x0d, "fortran95": 0x0e,
	"pli": 0x0f, "objc": 0x10, "objc_plus_plus": 0x11, "upc": 0x12, "d": 0x13,
	"python": 0x14, "opencl": 0x15, "go": 0x16, "modula3": 0x17, "haskell": 0x18,
	"c_plus_plus_03": 0x19, "c_plus_plus_11": 0x1a, "ocaml": 0x1b, "rust": 0x1c,
	"c11": 0x1d, "swift": 0x1e, "julia": 0x1f, "dylan": 0x20, "c_plus_plus_14": 0x21,
	"fortran03": 0x22, "fortran08": 0x23, "renderscript": 0x24, "bliss": 0x25,
	"mips_assembler": 0x8001,
}

func langSet(names []string) (map[uint64]bool, error) {
	set := map[uint64]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(n), "DW_LANG_"))
		if c, ok := langCodes[n]; ok {
			set[c] = true
			continue
		}
		var c uint64
		if _, err := fmt.Sscanf(n, "%v", &c); err == nil {
			set[c] = true
			continue
		}
		return nil, fmt.Errorf("unknown language %q in LangExclude", n)
	}
	return set, nil
}
