// Package distill makes a kernel module's split BTF relocatable: it replaces the
// module's base (vmlinux's BTF, about 100,000 types) with a "distilled" base that
// holds only what the module refers to, and in a form that can be matched by name
// against another build of the same kernel. This is libbpf's btf__distill_base
// (libbpf 1.5+; the semantics here are those of libbpf 1.7.0, which pahole 1.32
// links), which pahole applies for --btf_features=distilled_base and writes as the
// .BTF (split) and .BTF.base (distilled base) sections of the module. Relocate is the
// inverse step the kernel takes when it loads such a module (btf_relocate, the same
// code in the kernel and in libbpf): it puts the split BTF back on a full base.
//
// # The problem
//
// Split BTF refers to base types by ID. A module built outside the kernel tree (or
// kept across kernel updates) cannot rely on the running kernel's vmlinux having the
// same IDs, nor the same types: a struct may have gained a member. What the module
// really relies on is smaller: that "struct list_head" exists with the same size
// (it embeds one), that "int" is a 4-byte signed INT, that "struct sk_buff" exists
// (it only points to one). The distilled base records exactly those facts; every
// other base type the module reaches (pointers, typedefs, arrays, function
// prototypes, anonymous structs) is copied into the split BTF, where it describes
// itself in terms of the distilled base.
//
// # A worked example
//
// Base (vmlinux) and split (module), before:
//
//	[1] INT 'int' size 4 signed          [9] STRUCT 'mod' size 48
//	[2] STRUCT 'list_head' size 16             l: 2 (list_head)   p: 3 (*list_head)
//	      next: 3  prev: 3                      x: 4 (u32)         a: 6 (anonymous)
//	[3] PTR -> 2                         [10] PTR -> 9
//	[4] TYPEDEF 'u32' -> 5
//	[5] INT 'unsigned int' size 4
//	[6] STRUCT (anon) size 4  a: 1
//	[7] STRUCT 'task_struct' ...         (not reached from the split types)
//	[8] VAR 'jiffies' ...
//
// The split types reach the base types 2, 3, 4, 6 directly, and through them 1 and
// 5 (not list_head's members: named structs are kept without members). After:
//
//	distilled base                       split on it
//	[1] INT 'int' size 4 signed          [4] STRUCT 'mod' {l: 2  p: 6  x: 7  a: 8}
//	[2] STRUCT 'list_head' size 16,      [5] PTR -> 4
//	      no members                     [6] PTR -> 2          (was base 3)
//	[3] INT 'unsigned int' size 4        [7] TYPEDEF 'u32' -> 3 (was base 4)
//	                                     [8] STRUCT (anon) {a: 1} (was base 6)
//
// # The passes
//
// Distill is this list of passes over the input split Spec (never modified):
//
//  1. Reach: every base type ID referenced by a split type is marked, and so,
//     transitively, is every base type a marked base type refers to, except through
//     a named STRUCT or UNION (its members are not kept). Only INT, FLOAT, FWD,
//     ARRAY, STRUCT, UNION, ENUM, ENUM64, TYPEDEF, PTR, CONST, VOLATILE, RESTRICT,
//     FUNC_PROTO and TYPE_TAG may be reached: a VAR, FUNC, DATASEC or DECL_TAG of
//     the base has no business being referenced by a module and is an error.
//  2. Distilled base: the marked base types, in base ID order, that the relocation
//     can find again by name: INT, FLOAT and FWD as they are; named STRUCT and UNION
//     as the same kind, name and size with no members (and kind_flag 0); named ENUM
//     and ENUM64 as a 0-value ENUM of the same name and size (relocation matches it
//     to either). Its IDs start at 1.
//  3. Split: the split types in their order, then the other marked base types, in
//     base ID order, copied whole (anonymous STRUCT, UNION, ENUM, ENUM64 and every
//     reference kind).
//  4. Remap: in the new split types, a reference to a base type becomes the new ID
//     that pass 2 or 3 gave it, a reference to a split type moves down by the
//     difference between the old and the new base's type counts.
//
// Strings need no pass here: a Spec holds names, and Marshal lays the string
// sections out as libbpf does for a BTF it builds type by type (each distinct string
// once, in order of first use; a split name the distilled base has refers to the
// base's copy). So the marshalled distilled base and split are byte-for-byte what
// pahole writes.
//
// # Relocation
//
// Relocate undoes the distillation against a full base (the kernel's vmlinux BTF),
// as the kernel does at module load. Each distilled base type must match exactly one
// base type of its name. The candidates are the base's named INT, FLOAT, ENUM and
// ENUM64 of the same size, FWDs, and STRUCTs and UNIONs (of the same size where the
// base has several composites of that name). A distilled INT matches an INT of the
// same encoding, a FLOAT a FLOAT, an ENUM an ENUM or ENUM64, a FWD a FWD of the same
// kind_flag, a STRUCT whose kind_flag is clear or a UNION whose kind_flag is set
// (libbpf compares kind_flag, which for STRUCT and UNION means bitfield members). A
// distilled STRUCT or UNION matches any candidate, but one that a split struct or
// union embeds (through typedefs, qualifiers and arrays, not pointers) must keep its
// size, until it has a match: embedding a struct that changed size is invalid. Two
// matches, or none, is an error. Then base references are rewritten to the matched
// IDs and split IDs move up to continue the full base. The relocated split BTF is
// not deduplicated again: the copies of pass 3 stay, so it is equivalent to the
// module's original split BTF (the same type graph), not equal.
//
// Where this differs from libbpf: errors name the offending type and are returned,
// not printed; the input Specs are never modified; base composites that share a
// name are counted by name, where libbpf counts them by string offset (the same for
// BTF with deduplicated strings, as pahole's and the kernel's is).
package distill
