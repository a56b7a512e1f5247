// Package encode turns the DWARF of an ELF file into a shard: BTF types per
// compilation unit, the way pahole -J encodes them, plus function and variable
// candidates for the finalize stage.
//
// # What pahole does, and what we do
//
// pahole (dwarf_loader.c) loads each CU into a table of "types" whose index is
// the future BTF ID, then btf_encoder.c emits one BTF type per table entry. We
// reproduce its results, per CU, without building its object model:
//
//  1. Walk the CU's DIEs once (package dwarf), recording a compact node for each
//     DIE BTF can use: types, their members, enumerators, subranges and
//     parameters, subprograms and variables. Type nodes are put in pahole's
//     table order: the order in which a DIE's subtree closes (post-order), so a
//     type declared inside a struct or function comes before its parent, and
//     the btf_type_tag annotations of a pointer come before the pointer.
//     DW_TAG_unspecified_type gets no ID (it is void), as in pahole 1.26+.
//  2. Number the type nodes 1..n in that order and emit one btf.Type each:
//     base types (INT or FLOAT, odd sizes sanitized to a 4-byte
//     "__SANITIZED_FAKE_INT__"), PTR/CONST/VOLATILE/RESTRICT/TYPEDEF,
//     STRUCT/UNION (or FWD for declarations) with pahole's bitfield offsets,
//     ENUM/ENUM64, ARRAY, FUNC_PROTO, TYPE_TAG. Multi-dimensional arrays:
//     pahole 1.32 (Compat132) nests them, int a[2][3] being ARRAY[2] of
//     ARRAY[3] of int (the inner dimensions take IDs just before the array,
//     innermost first); pahole 1.24 (Compat124), like every pahole up to
//     1.31, flattens them into one ARRAY[6] of int.
//     For each formal parameter of a subprogram, where it is on entry gives
//     the candidates' OptimizedParams, UnexpectedReg, ReorderedParams and
//     SignatureChanged (params.go), which pahole 1.32 decides on; and
//     UncertainParamLoc for a named struct passed on the stack that pahole
//     1.32 infers to be packed (packed.go).
//  3. If an array was emitted and the CU has no base type named "int", append
//     one (4 bytes, signed) as the arrays' index type, as pahole does.
//  4. DECL_TAGs for btf_decl_tag annotations of structs, unions, their members
//     and typedefs, in type order.
//  5. For each subprogram candidate, a FUNC_PROTO (with parameter names); for
//     each variable candidate, nothing (a shard.Var names its type). The
//     candidates carry their btf_decl_tags (shard.Func.DeclTags,
//     shard.Var.DeclTags): the finalize stage emits them after the FUNC or VAR.
//
// # Annotations: btf_decl_tag and btf_type_tag
//
// clang (14+) describes __attribute__((btf_decl_tag("v"))) and
// btf_type_tag("v") as DW_TAG_LLVM_annotation (0x6000) children, named
// "btf_decl_tag" or "btf_type_tag", value in DW_AT_const_value, of the
// annotated DIE. GCC (16+) puts a DW_AT_GNU_annotation (0x2139) reference on
// the annotated DIE instead, to a DW_TAG_GNU_annotation (0x6001) DIE at unit
// level, which may chain on to the next through its own DW_AT_GNU_annotation;
// annotation DIEs are shared between types. pahole 1.24 to 1.31 read only the
// LLVM children (GCC's DIEs are "not handled"); 1.32 reads both, as follows
// (Compat124 reproduces 1.24, Compat132 1.32; the fixture annot.c and
// TestAnnotationsAgainstPahole check every line against both):
//
//	annotated DIE         LLVM children (1.24, 1.32)         GNU chain (1.32 only)
//	struct                DECL_TAG component -1              yes, after the members' (GCC 16 emits none)
//	union                 DECL_TAG component -1              no
//	member, inheritance   DECL_TAG component = member index  yes, after the member's children
//	typedef               DECL_TAG component -1              no (GCC 16 emits none)
//	subprogram            tag of the FUNC, component -1      yes, after all children
//	formal parameter      tag of the FUNC, component = index yes, after the parameter's children
//	  of a subprogram       among the formal parameters
//	variable              tag of the VAR, component -1       no: GCC's variable tags are lost
//	pointer               TYPE_TAGs (btf_type_tag only)      yes, if it has no LLVM type tags
//
// Component indexes count every member (or formal parameter) child, tagged or
// not. Tags come in DIE order, the annotation children of a struct or
// subprogram interleaved with its members' or parameters'; a GNU chain in
// chain order (GCC writes the last attribute first). Only "btf_decl_tag"
// annotations make DECL_TAGs: a chain's other entries are skipped. Parameters
// of subroutine types (function pointers) get no DECL_TAGs. A function's
// tags are those of its own DIE: an out-of-line copy (DW_AT_abstract_origin)
// has the tags its own DIE and parameters carry, often none, though its
// abstract origin has some; pahole does not look through the origin. A
// variable's are those of the DIE its DW_AT_specification names, if any.
//
// TYPE_TAGs: for int __tag("a") __tag("b") *p the BTF is PTR -> TYPE_TAG b ->
// TYPE_TAG a -> int. clang lists the children a, b (source order): the pointer
// refers to the last, each tag to the one before, the first to the pointee,
// and the tags take IDs in child order, before the pointer. GCC's chain is
// b -> a: the pointer refers to the first entry, each entry to the next, and
// the entries take IDs in chain order before the pointer, one copy per
// pointer even where GCC shares the DIEs. A chain entry that is not a
// btf_type_tag ends the pointer's tags.
//
// The shard is the concatenation of the CUs' types in CU order, without any
// deduplication, so that shards of CU ranges concatenate to the shard of the
// whole file. The merge stage deduplicates.
//
// What is left to the linked image (package finalize): which candidate
// functions become FUNCs (ELF symbols, declarations, inlined copies), which
// variables are per-CPU, and the DATASEC.
package encode

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// ErrUnsupported is wrapped by errors about DWARF the encoder does not handle
// (type units, split DWARF, references into supplementary files) and about
// splitting a file whose units refer to each other.
var ErrUnsupported = errors.New("unsupported DWARF")

// Range selects the units [First, Last) of a file, as part Index of Count. The
// zero Range selects every unit.
type Range struct {
	Index, Count int
	First, Last  int
	// Bytes is the size of the range's units in .debug_info, what it costs to
	// convert: a CU range's shard is about as large, its conversion's heap about
	// three times.
	Bytes uint64
}

// Full reports whether r is the zero Range.
func (r Range) Full() bool { return r == Range{} }

func sections(f *elfobj.File) (*dwarf.Data, *elfobj.DWARF, error) {
	s, err := f.DWARF()
	if err != nil {
		return nil, nil, err
	}
	d, err := dwarf.New(dwarf.Sections{
		Info: s.Info, Abbrev: s.Abbrev, Str: s.Str, LineStr: s.LineStr, StrOffsets: s.StrOffsets,
		Addr: s.Addr, Ranges: s.Ranges, Rnglists: s.Rnglists, Loc: s.Loc, Loclists: s.Loclists,
		ByteOrder: s.ByteOrder, InfoReader: s.InfoReader,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return d, s, nil
}

// Ranges partitions the units of f into n contiguous ranges balanced by their
// size in .debug_info. The partition depends only on the file and n. Ranges may
// be empty when there are fewer units than n. A file whose units refer to each
// other (LTO, dwz: see lto.go) is one CU for pahole and is not split: its first
// range holds every unit and the others are empty.
func Ranges(f *elfobj.File, n int) ([]Range, error) {
	if n < 1 {
		return nil, fmt.Errorf("encode: %d ranges requested", n)
	}
	d, _, err := sections(f)
	if err != nil {
		return nil, err
	}
	merge, err := merging(f, d)
	if err != nil {
		return nil, err
	}
	units := d.Units()
	if merge {
		rs := make([]Range, n)
		for k := range rs {
			rs[k] = Range{Index: k, Count: n, First: len(units), Last: len(units)}
		}
		rs[0].First = 0
		for i := range units {
			rs[0].Bytes += units[i].Size()
		}
		return rs, nil
	}
	return partition(units, n), nil
}

func partition(units []dwarf.Unit, n int) []Range {
	var total uint64
	for i := range units {
		total += units[i].Size()
	}
	rs := make([]Range, n)
	first := 0
	var acc uint64
	for k := 0; k < n; k++ {
		// Range k ends at the first unit boundary at or past total*(k+1)/n.
		target := total / uint64(n) * uint64(k+1)
		if k == n-1 {
			target = total
		}
		last := first
		for last < len(units) && acc+units[last].Size()/2 < target {
			acc += units[last].Size()
			last++
		}
		if k == n-1 {
			for last < len(units) {
				acc += units[last].Size()
				last++
			}
		}
		rs[k] = Range{Index: k, Count: n, First: first, Last: last}
		for i := first; i < last; i++ {
			rs[k].Bytes += units[i].Size()
		}
		first = last
	}
	return rs
}

// linkedImage reports whether f is a linked image, whose DWARF addresses are
// the image's own: an executable or shared object, or a kernel module (an
// ET_REL file with the module descriptor section the kernel's modpost adds).
// Other relocatable objects are linked into an image later.
func linkedImage(f *elfobj.File) bool {
	return f.Type != elf.ET_REL || f.Section(".gnu.linkonce.this_module") != nil
}

// EncodeFile opens path and encodes all its units.
func EncodeFile(path string, opts Options) (*shard.Shard, error) {
	f, err := elfobj.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Encode(f, Range{}, opts)
}

// Encode converts the units of r (all units for the zero Range). It is safe to
// call concurrently on one File with different ranges.
func Encode(f *elfobj.File, r Range, opts Options) (sh *shard.Shard, err error) {
	d, sec, err := sections(f)
	if err != nil {
		return nil, err
	}
	units := d.Units()
	first, last := 0, len(units)
	source := f.Path
	if !r.Full() {
		if r.First < 0 || r.Last > len(units) || r.First > r.Last {
			return nil, fmt.Errorf("%s: unit range [%d,%d) out of [0,%d)", f.Path, r.First, r.Last, len(units))
		}
		first, last = r.First, r.Last
		source = fmt.Sprintf("%s#cus=%d/%d", f.Path, r.Index, r.Count)
	}
	merge, err := merging(f, d)
	if err != nil {
		return nil, err
	}
	if merge && first != last && (first != 0 || last != len(units)) {
		return nil, fmt.Errorf("%s: units [%d,%d): %w: the file's units refer to each other (DW_FORM_ref_addr: LTO or dwz) and are encoded together; split it with Ranges, which keeps them in one range", f.Path, first, last, ErrUnsupported)
	}
	excl, err := langSet(opts.LangExclude)
	if err != nil {
		return nil, err
	}
	e := &encoder{
		file: f, data: d, sec: sec, opts: opts, excl: excl,
		rd:         d.NewReader(),
		inline:     make(map[string]uint32, 1024),
		sectionIdx: make(map[string]uint32),
		shard:      &shard.Shard{Source: source, Types: btf.NewTable(), Linked: linkedImage(f)},
		relocED:    f.Type == elf.ET_REL,
		abi:        abiOf(f.Machine),
		buffers:    getBuffers(),
	}
	// Names from .debug_str alias it: the table finds them by position.
	e.shard.Types.InternFrom(sec.Str)
	defer e.shard.Types.InternFrom(nil)
	defer func() {
		if e.buffers != nil {
			e.buffers.release()
		}
	}()
	defer func() {
		// The decoder checks its bounds; this is the last line of defence for
		// untrusted input.
		if x := recover(); x != nil {
			e.buffers = nil // in an unknown state: not for reuse
			sh, err = nil, fmt.Errorf("%s: unit at %#x: %w: internal error: %v", f.Path, e.unitOff, dwarf.ErrFormat, x)
		}
	}()
	// Presize the type table: about one type per 40 bytes of .debug_info (47 on
	// vmlinux) and at most a byte of records per byte (0.82 on vmlinux). Growing
	// a table of millions by appending copies it many times; capacity never
	// used is never touched, so costs no memory.
	var size uint64
	for i := first; i < last; i++ {
		size += units[i].Size()
	}
	e.shard.Types.Reserve(int(size/40+16), int(size+64))
	// Candidates too: a function per 1,050 bytes and a variable per 2,500 on
	// vmlinux; they are large records, and growing them was a tenth of the CPU.
	e.shard.Funcs = make([]shard.Func, 0, size/900+16)
	e.shard.Vars = make([]shard.Var, 0, size/2000+16)
	if merge && first != last {
		if err := e.group(units, true); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		return e.shard, nil
	}
	var largest uint64
	for i := first; i < last; i++ {
		largest = max(largest, units[i].Size())
	}
	e.reserve(largest)
	for i := first; i < last; i++ {
		if err := e.group(units[i:i+1], false); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if first < last {
		// The shard holds no reference into .debug_info: its DIEs of these
		// units are not read again.
		sec.ReleaseInfo(units[first].Offset, units[last-1].End)
	}
	return e.shard, nil
}
