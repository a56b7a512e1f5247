// Package dedup removes duplicate BTF types with the semantics of libbpf's
// btf__dedup (libbpf 1.1, the library pahole 1.24 hands its BTF to): the output is
// the set of types libbpf would keep, in the same order.
//
// # The problem
//
// The converter emits the types of every compilation unit (CU) on its own, so a
// vmlinux-sized input holds each common type thousands of times: millions of
// records for about a hundred thousand distinct types. Two copies of "the same"
// type need not be identical records, for two reasons:
//
//   - Incomplete information. A CU that only passes "struct S *" around sees a
//     forward declaration (FWD 'S'), another CU sees the full definition. Any
//     struct that points to S differs between the two CUs only in that pointer's
//     target, and the FWD should become the definition wherever the match is
//     unambiguous.
//   - Cycles. Types form graphs with cycles through pointers (a list node points to
//     its own struct), so "equal if all referenced types are equal" cannot be
//     decided bottom-up.
//
// A worked example, two CUs that share struct S but each know only one of A and B:
//
//	// CU 1                          // CU 2
//	struct B;                        struct A;
//	struct A {                       struct B {
//		int a;                           int b;
//		struct A *self;                  struct B *self;
//	};                               };
//	struct S {                       struct S {
//		struct A *a;                     struct A *a;
//		struct B *b;                     struct B *b;
//	};                               };
//
// As one table: [1] INT int, [2] STRUCT A {a:1 self:3}, [3] PTR→2, [4] FWD B,
// [5] PTR→4, [6] STRUCT S {a:3 b:5}, then CU 2: [7] INT int, [8] FWD A, [9] PTR→8,
// [10] STRUCT B {b:7 self:11}, [11] PTR→10, [12] STRUCT S {a:9 b:11}. Comparing the
// two S walks [12]/[6], [9]/[3], [8]/[2] (FWD A against struct A: taken as equal),
// [11]/[5], [10]/[4] (struct B against FWD B: equal). So [12] maps to [6], FWD [8]
// resolves to [2] and FWD [4] to [10]; then the pointers [9] and [11] turn out equal
// to [3] and [5], and the result is what a single CU defining everything gives:
// [1] INT int, [2] STRUCT A {a:1 self:3}, [3] PTR→2, [4] PTR→6, [5] STRUCT S
// {a:3 b:4}, [6] STRUCT B {b:1 self:4}. Neither CU alone could have produced it.
//
// # The passes
//
// Every type gets a canonical representative: itself, or an equivalent type with a
// smaller ID (with one exception below). Dedup is the list of passes that fill in
// that mapping, followed by the rewrite:
//
//  1. Primitive types (INT, FLOAT, FWD, ENUM, ENUM64) refer to nothing, so shallow
//     equality decides. An ENUM without values (an enum forward declaration)
//     joins a full enum of the same name; when the full enum comes later, the
//     earlier enum forward is mapped to it (the exception: its representative has a
//     larger ID).
//  2. Structs and unions. Each is compared with the earlier canonical structs whose
//     shallow signature (name, size, member names and offsets) matches, by a
//     side-by-side depth-first walk of both type graphs (isEquiv). The walk records
//     a hypothetical mapping from each type of the canonical graph to the type met
//     at the same place in the candidate graph. Meeting a pair again that the map
//     already holds proves it for the cycle (coinduction); meeting a canonical type
//     that the map ties to a different candidate type is a contradiction, unless the
//     two candidate types are identical arrays or structs (compilers do emit such
//     twins inside one CU; see "libbpf 1.7.0" below for that version's check). A FWD on one side and a struct or union of the same name
//     and kind on the other are taken as equal. When the walk succeeds, the map is
//     merged into the canonical mapping: FWDs met opposite a struct resolve to it,
//     and structs met opposite a canonical struct may be mapped to it early (only
//     an optimisation).
//  3. FWDs still unresolved are resolved by name: a FWD whose name belongs to
//     exactly one canonical struct or union, of the FWD's kind, maps to it.
//  4. Reference types (PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG, ARRAY,
//     FUNC_PROTO, FUNC, DECL_TAG). Once structs and FWDs are final, a reference
//     type is equal to another exactly when its own fields are and its referenced
//     types resolve to the same canonical types. Resolving those first, depth
//     first, makes the check a hash look-up. A chain of reference types always ends
//     at a struct, union or primitive in C; one that comes back to itself is a
//     malformed input and is reported.
//  5. Compaction: the canonical types keep their relative order and are numbered
//     from the Spec's FirstID.
//  6. Remapping: every reference is replaced by the new ID of its canonical type.
//
// VAR and DATASEC are never merged (two static variables of the same name in two
// CUs are different variables); only their references are remapped.
//
// # Split BTF
//
// When the Spec continues a base Spec (a module on vmlinux), base types are
// canonical by definition and are never renumbered or changed. They enter the
// look-up table before pass 1, so a module type equal to a base type maps to it. If
// an equivalence would need a base FWD to become a module struct, the graphs are
// not taken as equivalent (the base cannot change); the base FWD is still pointed
// at the module struct, so that module FWDs equal to it resolve there too.
//
// # libbpf 1.7.0
//
// The passes above are libbpf 1.1's (pahole 1.24's library). Options.Libbpf170
// reproduces libbpf 1.7.0 (the library of Debian's pahole 1.32), whose dedup differs in
// three ways, all in pass 2:
//
//   - TYPEDEFs are deduplicated in pass 2, in ID order among the structs, not in
//     pass 4: looked up by name and info, and equal to a candidate typedef when the
//     graph walk from the two succeeds. So two typedefs whose targets are equivalent
//     graphs are one even where the targets stay two canonical types (two module
//     copies of a struct that did not merge), and a FWD met in such a walk resolves
//     to the struct opposite it. Pass 4 finds typedefs already mapped.
//   - Base TYPEDEFs are still entered before pass 1 under libbpf 1.1's hash, which
//     covers the referenced ID, so the look-up by name and info never finds them: a
//     module TYPEDEF never maps to a base TYPEDEF, and a module keeps a copy of each
//     typedef it declares and of every reference type built on one.
//   - The fallback for a candidate type that contradicts the hypothetical map
//     accepts identical types of every kind (pointers, typedefs, prototypes, ...),
//     down to 16 levels of structs, arrays and prototypes; arrays count as identical
//     when their own fields are, whatever their element types, because libbpf 1.7.0
//     reads both arrays' element and index types from the first array.
//
// # Data structures
//
//   - canon: one uint32 per type ID (base and new), the canonical mapping. Two
//     values above any valid ID mark "not processed yet" and "being processed"
//     (cycle detection in pass 4). Resolution follows the chain to a type that maps
//     to itself.
//   - hypot and hypotList: the hypothetical mapping of one graph walk, with the list
//     of its set entries so that clearing costs the walk's size, not the table's.
//   - table: an open-addressing hash table from a 64-bit hash of a type's shallow
//     content (reduced to 32 bits in 8-byte slots) to the canonical types with that
//     hash. Only canonical types are inserted, so it holds about as many entries as
//     the output has types, however many duplicates the input has. Candidates are
//     confirmed by equality and tried in the order libbpf's hash map would list
//     them (see table.go), so the result depends neither on the hash function nor
//     on its seed, and equals libbpf's where several candidates qualify.
//   - kinds: one byte per type, so that each pass finds its types without reading
//     every record of a multi-million-type input.
//   - the types themselves: their wire records (struct btf_type and its tail) in a
//     btf.Table, read through rec's accessors, as libbpf reads its raw types. Names
//     are string offsets into one interned string section (the base's, continued
//     by the split table's own), so equal names have equal offsets and are hashed
//     and compared as integers, as libbpf does after its string pass. A merge hands
//     its combined types over in this form (DedupTable); a Spec is converted first
//     (Dedup). Only the output is decoded into a Spec.
//
// The input is never modified. Where libbpf rewrites a reference type's
// referenced IDs in place during pass 4, this package resolves them when comparing:
// a processed type's references resolve to the same canonical types at any later
// point, so the comparisons are the same. Base types are compared with their
// references as stored, as libbpf does.
//
// Where this differs from libbpf 1.1: the strings are interned as the types are
// built, so there is no string pass; the identical-struct fallback of pass 2 stops at a nesting depth of 16 (as
// later libbpf versions do) so that malformed self-containing structs cannot
// recurse without end; and malformed input (references past the
// last type, unknown kinds, reference cycles, type graphs too deep to walk) is
// reported as an error naming the type.
package dedup
