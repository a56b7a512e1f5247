package encode

import (
	"debug/elf"
	"fmt"

	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
)

// Cross-unit references (LTO, dwz)
//
// A DIE may refer to a DIE of another unit only through DW_FORM_ref_addr. GCC's
// LTO output has early-debug units (types, abstract functions) and LTRANS units
// (<artificial>) whose concrete functions name their abstract origin in the
// former; clang's LTO units share types; dwz moves common DIEs into
// DW_TAG_partial_unit units that the others refer to (and list with
// DW_TAG_imported_unit).
//
// pahole (dwarf_loader.c, cus__merging_cu) decides per file: if the ELF has a
// Linux LTO note (type 0x101, owner "Linux"), its value says; otherwise any
// DW_FORM_ref_addr in any unit's abbreviation table means "merge". When
// merging, cus__merge_and_process_cu loads the children of every unit into
// one CU (named "", with the first unit's language and producer), partial
// units included, and encodes that CU as pahole encodes any other: its types
// in table order, then its DECL_TAGs, the arrays' "int" looked up over all of
// them, its functions after all its types. The encoder does the same: a
// merging file is one group of units encoded as one CU.
//
// Sharding: the result depends on the whole group (the "int" look-up, where
// functions and DECL_TAGs go), so a merging file is never split. Ranges puts
// all its units in the first range and leaves the others empty; Encode refuses
// any other split. Files without cross-unit references shard per unit as
// before: no reference leaves a unit, so every range boundary is safe.
//
// Without merging, pahole skips partial units ("some types will not be
// considered"); with it, pahole reads them like any unit. DW_TAG_imported_unit
// is skipped in both cases (pahole: "We don't support imported units yet"):
// the imported DIEs are loaded where they are anyway.
//
// Language exclusion (--lang_exclude): pahole 1.24 tests only the merged CU's
// language, the first unit's; pahole 1.28+ also drops each unit whose own
// language is excluded before merging. Compat124 and Compat132 follow.

// linuxLTONote is LINUX_ELFNOTE_LTO_INFO (include/linux/elfnote-lto.h): a
// 4-byte note of owner "Linux" whose value is 1 in kernels built with LTO.
const linuxLTONote = 0x101

// merging reports whether the units of f must be encoded as one CU.
func merging(f *elfobj.File, d *dwarf.Data) (bool, error) {
	if v, ok, err := ltoNote(f); err != nil || ok {
		return v, err
	}
	m, err := d.CrossUnitRefs()
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Path, err)
	}
	return m, nil
}

// ltoNote reads the Linux LTO note from the SHT_NOTE sections of f, as
// pahole's cus__merging_cu does: the first note of type 0x101 and owner
// "Linux" decides.
func ltoNote(f *elfobj.File) (value, found bool, err error) {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := f.Data(s)
		if err != nil {
			return false, false, err
		}
		for p := 0; p+12 <= len(b); {
			namesz := int(f.ByteOrder.Uint32(b[p:]))
			descsz := int(f.ByteOrder.Uint32(b[p+4:]))
			typ := f.ByteOrder.Uint32(b[p+8:])
			name := p + 12
			desc := name + align4(namesz)
			next := desc + align4(descsz)
			if namesz < 0 || descsz < 0 || desc > len(b) || desc+descsz > len(b) {
				return false, false, &elfobj.Error{Path: f.Path, Offset: int64(s.Offset) + int64(p), Err: fmt.Errorf("section %s: truncated note", s.Name)}
			}
			if typ == linuxLTONote && namesz == 6 && string(b[name:name+5]) == "Linux" && descsz >= 4 {
				return f.ByteOrder.Uint32(b[desc:]) != 0, true, nil
			}
			p = next
		}
	}
	return false, false, nil
}

func align4(n int) int { return (n + 3) &^ 3 }
