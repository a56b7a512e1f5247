// Package finalize turns the shards of one linked image into the single BTF type
// table pahole would hold just before its btf__dedup: every shard's types, the FUNCs
// pahole would choose from the image's symbol table, and the per-CPU VARs with their
// ".data..percpu" DATASEC (and, optionally, every global variable with one DATASEC per
// section). The result is not deduplicated; package dedup does that next.
//
// # The problem
//
// A shard is converted without the linked image, so it cannot know which of its
// subprograms the linker kept, under which symbol, or where its variables ended up.
// It records candidates instead (see package shard) and one FUNC_PROTO per candidate
// function. Combine decides, the way pahole's btf_encoder.c does for a whole binary:
//
//   - which candidate functions become FUNCs (and drops the FUNC_PROTOs of the others;
//     nothing else references them);
//   - which candidate variables are per-CPU (or global) variables, at what offset in
//     their section, and how big the DATASEC is.
//
// Two pahole generations are reproduced (Options.Compat):
//
// pahole 1.24 (the reference our data was made with; btf_encoder.c at tag v1.24):
//
//   - ELF functions are the STT_FUNC symbols of .symtab, matched by exact name: a
//     DWARF function "foo" whose only code is "foo.isra.0" gets no FUNC.
//   - A candidate is skipped if it is a declaration, if a parameter has no name, if
//     no STT_FUNC symbol has its name, or if a FUNC of that name was already emitted:
//     the first candidate in link order wins, so of several same-named static
//     functions the first CU's prototype is used.
//   - Without a symbol table (or with no STT_FUNC symbol in it), every external
//     non-declaration with named parameters gets a FUNC, duplicates included.
//   - The FUNC follows its FUNC_PROTO inside the CU's types (pahole emits them right
//     after the CU's types). FUNC linkage is always static: pahole passes
//     BTF_FUNC_STATIC to btf__add_func whatever DW_AT_external says (a quirk every
//     pahole up to 1.32 keeps).
//   - Per-CPU variables: the STT_OBJECT symbols of the first section named
//     ".data..percpu" with a non-zero size (a symbol name that is not a valid BTF
//     name is an error unless Options.Force), their values made section-relative,
//     sorted by value (glibc's qsort is a stable merge sort there) and searched with
//     glibc's bsearch, whose choice among equal keys we reproduce. A candidate
//     variable must be a definition with a DW_OP_addr inside the section; the symbol
//     at that offset gives the VAR's name and the DATASEC entry's size; at address
//     0 (where the linker script also puts __UNIQUE_ID and __ADDRESSABLE fakes) the
//     DWARF and symbol names must agree, and pahole takes the DIE's own name there,
//     so a definition that follows a declaration in its CU (DW_AT_specification,
//     no name of its own: vmlinux's fixed_percpu_data) is left out. A void type is an error (unless Force), a
//     zero-sized type is skipped. VAR linkage is global-allocated for external
//     variables, static otherwise. The VARs of a CU follow its FUNCs.
//   - One DATASEC ".data..percpu" at the very end, entries sorted by offset (stable),
//     size = last entry's offset + size (not the maximum end: a pahole quirk).
//
// pahole 1.32 (the acmel/dwarves tree after v1.31: --btf_features with var,
// optimized_func, consistent_func, decl_tag_kfuncs, global_var, reproducible_build):
//
//   - ELF functions are grouped by the name before the first '.': "foo",
//     "foo.isra.0" and "foo.constprop.0" are one function with three symbols. Symbols
//     whose suffix contains ".cold" or ".part" are ignored (split-off code, not
//     functions). A function whose symbols have different non-zero addresses has an
//     ambiguous address and gets no FUNC (pahole's check skips zero addresses),
//     except the last function in name order: pahole tests a name's symbols when
//     the sorted symbols reach the next name, and never after the last one.
//   - Every candidate that passes the 1.24 tests (declaration, named parameters, an
//     ELF function of that name) is saved, not emitted. After all CUs the saved
//     states are sorted by name (stably) and each name's states are combined: if any
//     has an unexpected register the function is dropped; otherwise, with
//     consistent_func (on unless Options.InconsistentFuncs), the function is dropped
//     when any state's prototype differs from the first one's under pahole's loose
//     comparison (types__match: names for structs, unions, enums and typedefs, const
//     ignored on one side, structure for pointers, arrays and prototypes).
//   - A function is also dropped when any of its states has parameters in an
//     unexpected register, an uncertain parameter location (a packed struct
//     passed on the stack) or parameters reordered against the abstract origin
//     (the encoder computes these per candidate, see converter/encode/params.go).
//   - The canonical state is the first whose low PC is the address of one of the
//     function's symbols and whose parameters were not optimized into a changed ABI;
//     failing that the first with a matching address, failing that the first with
//     a non-zero address (pahole 1.32 measured: a strong definition described by
//     DW_AT_ranges has address 0 for pahole and loses to a later weak one),
//     failing that the first. This is "strong over weak": only the definition the
//     linker kept has the symbol's address. A state has a changed ABI when its
//     parameters were optimized and a ".isra"/".constprop" symbol sits at its
//     address, or clang marked it DW_CC_nocall; then the FUNC is dropped.
//   - FUNCs (each with a fresh copy of its FUNC_PROTO) are emitted after all CUs,
//     sorted by name; linkage static, as in 1.24.
//   - Without a symbol table pahole 1.32 refuses to encode; we keep the 1.24
//     fallback there (external functions, the first per name). A symbol table
//     without functions gives no FUNCs, as in 1.32.
//   - Variables: the name and type come from DWARF (not the symbol); the section is
//     the PROGBITS or NOBITS section containing the address (".data..percpu" only,
//     or every section with global_var); names with the prefixes __UNIQUE_ID,
//     __tpstrtab_, __exitcall_, __gendwarfksyms_ptr_, __func_stack_frame_non_standard_
//     are skipped; at offset 0 an STT_OBJECT symbol of that name must be in the
//     section; the DATASEC entry's size is the type's size; sizes above 4 GiB and
//     offsets that do not fit 32 bits are skipped. One DATASEC per section, in section
//     order, after the FUNCs. The VARs of a CU follow its types.
//   - optimized_func is a no-op since pahole 1.28 (suffix matching is always on);
//     reproducible_build only matters for pahole's threads: our output is
//     deterministic by construction; decl_tag_kfuncs (Options.TagKfuncs) tags the
//     FUNCs of the kfunc sets in .BTF_ids (kfuncs.go).
//   - Variables: only those at the top level of their unit and not artificial
//     (shard.Var.TopLevel, Artificial); function statics are never encoded.
//
// # Two kinds of shards
//
// A shard either covers CUs of the linked ELF itself (its addresses are the final
// ones: a range of vmlinux, or a module's own .ko), or one ET_REL object that was
// linked later (its addresses are relative to the object's sections). The encoder
// records which (shard.Shard.Linked); Options.Inputs can override it for all shards.
//
// For an object shard the addresses say nothing about the image, so:
//
//   - functions are matched by name only (1.32's address tests see no address: the
//     first state in link order is canonical and no clone suffix is detected);
//   - variables are matched by name against the image's STT_OBJECT symbols: an
//     external variable against global or weak symbols, a static one against local
//     symbols. Several local symbols of one name are told apart by the STT_FILE
//     symbol that precedes each object's locals in .symtab (GCC writes the source
//     file's base name there), compared with the base name of the CU's DW_AT_name;
//     if several remain (two "core.c" in different directories), the n-th such
//     candidate in link order takes the n-th such symbol in table order. A per-CPU
//     candidate must name ".data..percpu" as its section and resolve to a symbol in
//     the image's ".data..percpu".
//
// For an ET_REL image (a module), addresses on both sides are section-relative, so
// a linked shard's variable is placed by its section name and address. pahole loads
// an ET_REL file through libdwfl, which lays its sections out at distinct addresses
// for DWARF while symbol values stay section-relative: its function address
// comparisons then never match. In 1.32 mode we reproduce that by treating function
// addresses of ET_REL images as unknown.
//
// # Output order
//
// Types keep their shard order (shards in link order); dropped FUNC_PROTOs leave no
// hole (IDs are renumbered). A CU's VARs (and, in 1.24 mode, FUNCs) are placed where
// pahole places them relative to that CU's types: after the CU's last type
// (shard.CU.TypesEnd).
//
// # Cost
//
// Linear in types and candidates, plus sorting the symbols and the saved function
// states: maps are used for lookup only, never iterated to produce output.
package finalize
