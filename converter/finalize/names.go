package finalize

import "strings"

// ksymNameLen is KSYM_NAME_LEN of include/linux/kallsyms.h, pahole's limit.
const ksymNameLen = 128

// validBTFName reports whether name is an identifier the kernel accepts in vmlinux
// BTF, as pahole's btf_name_valid checks it: [A-Za-z_.][A-Za-z0-9_.]*, at most
// ksymNameLen bytes.
func validBTFName(name string) bool {
	if name == "" || len(name) > ksymNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '.':
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// filteredVarPrefixes are the variable names pahole 1.32 never encodes
// (filter_variable_name): compiler- or macro-made objects with no useful value.
var filteredVarPrefixes = []string{
	"__UNIQUE_ID",
	"__tpstrtab_",
	"__exitcall_",
	"__gendwarfksyms_ptr_",
	"__func_stack_frame_non_standard_",
}

func filteredVarName(name string) bool {
	for _, p := range filteredVarPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// splitSuffix splits a symbol name at its first '.': "foo.isra.0" gives "foo" and
// ".isra.0".
func splitSuffix(name string) (base, suffix string) {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i], name[i:]
	}
	return name, ""
}

// nonFunctionSuffix reports whether the symbol is split-off code rather than a
// function: pahole 1.32 searches the whole suffix for ".cold" or ".part" (so
// "foo.isra.0.cold" is skipped too).
func nonFunctionSuffix(name string) bool {
	_, suffix := splitSuffix(name)
	return strings.Contains(suffix, ".cold") || strings.Contains(suffix, ".part")
}

// optimizedSuffix reports whether the symbol is a GCC clone whose ABI may differ from
// the source prototype.
func optimizedSuffix(name string) bool {
	_, suffix := splitSuffix(name)
	return strings.Contains(suffix, ".constprop") || strings.Contains(suffix, ".isra")
}

// baseName is the last element of a slash-separated path, as STT_FILE symbols
// record source files.
func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
