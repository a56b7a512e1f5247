package dedup

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/hugepage"
	"github.com/rules-btf/rules_btf/internal/parallel"
)

// Options configures Dedup. libbpf's own options (the .BTF.ext to update, a forced
// hash-table size for tests) have no counterpart here, and the base of split BTF is
// the Spec's own Base. The zero value is libbpf 1.1, the library of pahole 1.24.
type Options struct {
	// Libbpf170 reproduces the dedup of libbpf 1.7.0, the library of the pahole
	// 1.32 that Debian ships, where it differs from libbpf 1.1:
	//
	//   - TYPEDEFs are deduplicated in the struct pass, by the graph walk, not in the
	//     reference pass (libbpf commit 3781413465df, for Go's recursive typedefs).
	//     They are looked up by a hash of name and info only; two typedefs are equal
	//     when the types they name are equivalent graphs, whether or not those were
	//     deduplicated into one canonical type.
	//   - Base TYPEDEFs stay in the table under the hash that also covers their
	//     referenced ID (btf_dedup_prep was not changed with them; fixed after 1.7.0
	//     by libbpf commit 5b0f3729), so the look-up never finds them: a module keeps
	//     its own copy of every typedef it declares, and of every pointer, array,
	//     CONST or FUNC_PROTO that refers to one.
	//   - The fallback for twin types met in a walk (btf_dedup_identical_types)
	//     covers every kind down to a depth of 16, and compares two arrays by their
	//     own fields only: it reads both arrays' element and index types from the
	//     first array.
	Libbpf170 bool

	// BaseTypedefsUnmatched is the former name of Libbpf170, whose most visible
	// effect it names; either one selects libbpf 1.7.0.
	BaseTypedefsUnmatched bool

	// Base, if not nil, is the base of the Spec to deduplicate as PrepareBase
	// left it, so that its types are not checked and hashed again: a process
	// that converts many modules on one vmlinux prepares it once. It must have
	// been prepared from the Spec's Base itself.
	Base *Base

	// Jobs is how many goroutines the passes that look at each type on its own
	// (validation, numbering the output) use: 0 means runtime.GOMAXPROCS. The
	// graph walks are sequential, as libbpf's. The result does not depend on it.
	Jobs int
}

// Base is the part of a split dedup that depends on the base alone: its types as
// records, checked, and the table of candidates holding every base type (pass 0).
// Dedup only reads it, so one Base serves any number of Dedup calls, concurrent
// ones included.
type Base struct {
	spec   *btf.Spec
	tables []*btf.Table // the base and its own bases, innermost first
	kinds  []btf.Kind   // by ID
	table  *table

	// spare holds the copies of table that finished Dedup calls no longer use, so
	// that the next call copies into their arrays (megabytes for a vmlinux base)
	// instead of new memory.
	spare sync.Pool

	// once: table is used in place by the one Dedup the Base serves
	// (LoadBaseOnce); used: that Dedup has begun.
	once, used bool
}

// PrepareBase checks base and enters its types into a candidate table, as Dedup
// does for a Spec split on base. A nil base gives a nil Base.
func PrepareBase(base *btf.Spec) (*Base, error) {
	if base == nil {
		return nil, nil
	}
	local, err := btf.NewSplitTable(base)
	if err != nil {
		return nil, err
	}
	tables, err := baseTables(base)
	if err != nil {
		return nil, err
	}
	d, err := newDeduper(local, tables, nil)
	if err != nil {
		return nil, err
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	d.prep()
	return &Base{spec: base, tables: tables, kinds: d.kinds, table: d.table}, nil
}

// baseTables returns the records of base and of its own bases, innermost first,
// after checking that their IDs follow on.
func baseTables(base *btf.Spec) ([]*btf.Table, error) {
	var chain []*btf.Spec
	for b := base; b != nil; b = b.Base {
		chain = append(chain, b)
	}
	next := btf.TypeID(1)
	tables := make([]*btf.Table, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		b := chain[i]
		if b.FirstID != next {
			return nil, fmt.Errorf("dedup: base Spec starts at ID %d, want %d", b.FirstID, next)
		}
		if err := checkKinds(b); err != nil {
			return nil, err
		}
		t, err := b.Table()
		if err != nil {
			return nil, fmt.Errorf("dedup: base: %w", err)
		}
		tables[len(chain)-1-i] = t
		next = b.NextID()
	}
	return tables, nil
}

// ErrMalformed is wrapped by every error about the content of the input.
var ErrMalformed = errors.New("malformed BTF")

// TypeError reports a problem with one input type.
type TypeError struct {
	ID   btf.TypeID
	Kind btf.Kind
	Name string
	Err  error
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("dedup: type [%d] %s '%s': %v", e.ID, e.Kind, e.Name, e.Err)
}

func (e *TypeError) Unwrap() error { return e.Err }

const (
	// maxTypes is the largest valid type ID (libbpf's BTF_MAX_NR_TYPES); canon values
	// above it are markers.
	maxTypes    = 0x7fffffff
	unprocessed = ^uint32(0)
	inProgress  = ^uint32(0) - 1

	// maxDepth bounds the recursion of the graph walks. Real type graphs stay far
	// below it; only malformed chains (a pointer to a pointer to ... a hundred
	// thousand deep) reach it.
	maxDepth = 1 << 18
	// identicalDepth bounds the identical-struct fallback of isEquiv.
	identicalDepth = 16
)

// forceCollisions makes every signature collide (tests only).
var forceCollisions = false

// Dedup returns a new Spec with duplicate types removed and all references remapped,
// following libbpf's btf__dedup (see the package documentation for the algorithm).
// The kept types are the canonical ones, in their input order. The second result
// maps every input ID to its output ID: index id - s.FirstID.
//
// If s.Base is set, s is split BTF: base types are canonical and unchanged, input
// types equal to a base type map to it, and the output is split on the same base.
// s and its base are not modified; the output shares no slices with them.
//
// Dedup works on the types' wire records: it makes a btf.Table of s first.
// DedupTable takes one directly.
func Dedup(s *btf.Spec, opts Options) (*btf.Spec, []btf.TypeID, error) {
	next := btf.TypeID(1)
	if s.Base != nil {
		next = s.Base.NextID()
	}
	if s.FirstID != next {
		return nil, nil, fmt.Errorf("dedup: Spec starts at ID %d, its base ends at %d", s.FirstID, next-1)
	}
	if err := checkKinds(s); err != nil {
		return nil, nil, err
	}
	t, err := btf.TableOf(s)
	if err != nil {
		return nil, nil, fmt.Errorf("dedup: %w: %w", ErrMalformed, err)
	}
	return DedupTable(t, opts)
}

// checkKinds reports the first type of s whose kind is unknown: a Table cannot
// hold it.
func checkKinds(s *btf.Spec) error {
	for i := range s.Types {
		if t := &s.Types[i]; t.Kind == btf.KindUnknown || t.Kind >= btf.NumKinds {
			return &TypeError{ID: s.FirstID + btf.TypeID(i), Kind: t.Kind, Name: t.Name,
				Err: fmt.Errorf("%w: unknown kind %d", ErrMalformed, uint8(t.Kind))}
		}
	}
	return nil
}

// DedupTable is Dedup for types held as a Table (split on its Base, if it has
// one): a vmlinux-sized merge hands its combined types over in that form, a third
// of the memory of a Spec and with nothing for the garbage collector to scan. The
// output Spec's names alias t's string section; t is not modified.
func DedupTable(t *btf.Table, opts Options) (*btf.Spec, []btf.TypeID, error) {
	var tables []*btf.Table
	if base := t.Base(); base != nil {
		if opts.Base != nil {
			if opts.Base.spec != base {
				return nil, nil, fmt.Errorf("dedup: Options.Base was prepared for another base than the Spec's")
			}
			tables = opts.Base.tables
		} else {
			var err error
			if tables, err = baseTables(base); err != nil {
				return nil, nil, err
			}
		}
	} else if opts.Base != nil {
		return nil, nil, fmt.Errorf("dedup: Options.Base was prepared for another base than the Spec's")
	}
	d, err := newDeduper(t, tables, opts.Base)
	if err != nil {
		return nil, nil, err
	}
	if opts.Base != nil && !opts.Base.once {
		defer opts.Base.spare.Put(d.table)
	}
	d.v170 = opts.Libbpf170 || opts.BaseTypedefsUnmatched
	d.jobs = opts.Jobs
	if d.jobs <= 0 {
		d.jobs = runtime.GOMAXPROCS(0)
	}
	if err := d.validate(); err != nil {
		return nil, nil, err
	}
	if opts.Base == nil {
		d.prep()
	}
	d.primTypes()
	if err := d.structTypes(); err != nil {
		return nil, nil, err
	}
	d.resolveFwds()
	if err := d.refTypes(); err != nil {
		return nil, nil, err
	}
	return d.compactAndRemap()
}

// deduper holds the state of one Dedup call. IDs are uint32 throughout.
type deduper struct {
	first  uint32       // the table's FirstID
	local  *btf.Table   // the types to deduplicate: IDs first, first+1, ...
	tables []*btf.Table // the base's records, innermost first (none: standalone)
	n      uint32       // number of IDs including void: first + local types
	kinds  []btf.Kind   // every type's kind, by ID (passes scan this, not the records)
	canon  []uint32     // canonical mapping, by ID
	hypot  []uint32     // hypothetical mapping of the current isEquiv walk, by ID
	hlist  []uint32     // IDs set in hypot
	table  *table       // signature hash -> canonical types
	stack  []uint32     // scratch for resolved FUNC_PROTO parameters (used as a stack)
	v170   bool         // Options.Libbpf170
	jobs   int          // Options.Jobs, resolved

	validated uint32 // IDs below it were checked by PrepareBase (1: none)

	// adjustCanon records that the current walk would need a base FWD to resolve
	// to a split struct: the graphs are then not taken as equivalent.
	adjustCanon bool
}

// newDeduper sets up the dedup of local on the base whose records tables holds;
// with a prepared base (nil: none), the base's part is taken from it and validate
// checks only local's own types.
func newDeduper(local *btf.Table, tables []*btf.Table, prepared *Base) (*deduper, error) {
	next := btf.TypeID(1)
	if len(tables) > 0 {
		next = tables[len(tables)-1].NextID()
	}
	if local.FirstID() != next {
		return nil, fmt.Errorf("dedup: Spec starts at ID %d, its base ends at %d", local.FirstID(), next-1)
	}
	total := uint64(local.FirstID()) + uint64(local.Len())
	if total-1 > maxTypes {
		return nil, fmt.Errorf("dedup: %d types: more than BTF's %d", total-1, maxTypes)
	}
	d := &deduper{
		first:  uint32(local.FirstID()),
		local:  local,
		tables: tables,
		n:      uint32(total),
	}
	d.kinds = hugepage.Make[btf.Kind](int(d.n), int(d.n))
	d.canon = hugepage.Make[uint32](int(d.n), int(d.n))
	d.hypot = hugepage.MakeNoZero[uint32](int(d.n), int(d.n))
	for i := range d.hypot {
		d.hypot[i] = unprocessed
	}
	if prepared != nil {
		if uint32(len(prepared.kinds)) != d.first {
			return nil, fmt.Errorf("dedup: the base has %d types, %d when it was prepared", d.first-1, len(prepared.kinds)-1)
		}
		copy(d.kinds, prepared.kinds)
		for id := range d.first {
			d.canon[id] = id // base types are canonical (validate)
		}
		switch {
		case prepared.once && prepared.used:
			return nil, fmt.Errorf("dedup: a base loaded for one Dedup (LoadBaseOnce) used again")
		case prepared.once:
			prepared.used = true
			d.table = prepared.table
		default:
			c, _ := prepared.spare.Get().(*table)
			if c == nil {
				c = new(table)
			}
			d.table = prepared.table.cloneInto(c, local.Len()/16)
		}
		d.validated = d.first
		return d, nil
	}
	// Distinct types are a few percent of a multi-CU input, a larger share of a
	// module's own; the table grows anyway.
	hint := local.Len() / 16
	if len(tables) > 0 {
		hint = local.Len() / 2
	}
	d.table = newTable(int(d.first) + hint)
	d.table.collide = forceCollisions
	d.validated = 1
	return d, nil
}

// typ returns the record of type id.
func (d *deduper) typ(id uint32) rec {
	if id >= d.first {
		return rec(d.local.RecordFrom(btf.TypeID(id)))
	}
	if id == 0 {
		return voidRec
	}
	return rec(d.tableOf(id).RecordFrom(btf.TypeID(id))) // validate keeps references below d.n
}

// tableOf returns the Table holding type id (not void), nil past the last.
func (d *deduper) tableOf(id uint32) *btf.Table {
	if id >= d.first {
		return d.local
	}
	for _, t := range d.tables {
		if btf.TypeID(id) < t.NextID() {
			return t
		}
	}
	return nil
}

func (d *deduper) errorf(id uint32, format string, args ...any) error {
	t := d.typ(id)
	name := ""
	if tab := d.tableOf(id); tab != nil {
		name, _ = tab.Name(t.name())
	}
	return &TypeError{
		ID:   btf.TypeID(id),
		Kind: t.kind(),
		Name: name,
		Err:  fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...)),
	}
}

// validate checks that every reference names an existing type (for base types: a
// base type), so that the passes can index without checks. It fills in kinds and
// the initial canonical mapping: base types (canonical by definition), VARs and
// DATASECs (never merged) map to themselves, all others are not processed. (Kinds
// are known: a Table holds no other.)
func (d *deduper) validate() error {
	rs := d.split(d.validated, d.n)
	return d.parallel(len(rs), func(i int) error { return d.validateRange(rs[i][0], rs[i][1]) })
}

func (d *deduper) validateRange(lo, hi uint32) error {
	for id := lo; id < hi; id++ {
		t := d.typ(id)
		limit := d.n
		if id < d.first {
			limit = d.first
		}
		k := t.kind()
		d.kinds[id] = k
		switch {
		case id < d.first, k == btf.KindVar, k == btf.KindDatasec:
			d.canon[id] = id
		default:
			d.canon[id] = unprocessed
		}
		if k.HasRef() && t.ref() >= limit {
			return d.errorf(id, "references type [%d] past the last type [%d]", t.ref(), limit-1)
		}
		switch k {
		case btf.KindArray:
			if t.index() >= limit {
				return d.errorf(id, "index type [%d] past the last type [%d]", t.index(), limit-1)
			}
		case btf.KindStruct, btf.KindUnion, btf.KindFuncProto, btf.KindDatasec:
			for i := range t.vlen() {
				if m := t.memberType(i); m >= limit {
					name := ""
					if k != btf.KindDatasec {
						name, _ = d.tableOf(id).Name(t.memberName(i))
					}
					return d.errorf(id, "member %d '%s' references type [%d] past the last type [%d]",
						i, name, m, limit-1)
				}
			}
		}
	}
	return nil
}

// split divides the IDs [lo, hi) into consecutive ranges: one, or when there are
// many types, a few per job.
func (d *deduper) split(lo, hi uint32) [][2]uint32 {
	const minRange = 1 << 16
	span := uint64(hi - lo)
	if d.jobs <= 1 || span < 2*minRange {
		return [][2]uint32{{lo, hi}}
	}
	k := min(uint64(4*d.jobs), span/minRange)
	rs := make([][2]uint32, k)
	for i := range rs {
		rs[i] = [2]uint32{lo + uint32(span*uint64(i)/k), lo + uint32(span*uint64(i+1)/k)}
	}
	return rs
}

// parallel calls fn(i) for each i in [0, n), d.jobs at a time (parallel.Each).
func (d *deduper) parallel(n int, fn func(i int) error) error { return parallel.Each(n, d.jobs, fn) }

// mapped reports whether id has a canonical type (possibly itself).
func (d *deduper) mapped(id uint32) bool { return d.canon[id] <= maxTypes }

// resolve follows the canonical mapping from id to a type that maps to itself (or
// to one not processed yet).
func (d *deduper) resolve(id uint32) uint32 {
	for {
		m := d.canon[id]
		if m > maxTypes || m == id {
			return id
		}
		id = m
	}
}

// resolveFwd returns the struct or union a FWD resolves to, else id.
func (d *deduper) resolveFwd(id uint32) uint32 {
	if d.kinds[id] != btf.KindFwd {
		return id
	}
	if r := d.resolve(id); d.kinds[r] != btf.KindFwd {
		return r
	}
	return id
}

// prep enters the base types into the table (pass 0, split BTF only). Their
// references are canonical already and are hashed as stored.
func (d *deduper) prep() {
	for id := uint32(1); id < d.first; id++ {
		t := d.typ(id)
		var h uint64
		switch t.kind() {
		case btf.KindVar, btf.KindDatasec:
			continue
		case btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindPtr,
			btf.KindTypedef, btf.KindFunc, btf.KindTypeTag:
			h = hashCommon(t, t.ref())
		case btf.KindFwd, btf.KindFloat:
			h = hashCommon(t, sizeWord(t))
		case btf.KindInt:
			h = hashInt(t)
		case btf.KindDeclTag:
			h = hashDeclTag(t, t.ref())
		case btf.KindEnum, btf.KindEnum64:
			h = hashEnum(t)
		case btf.KindStruct, btf.KindUnion:
			h = hashStruct(t)
		case btf.KindArray:
			h = hashArray(t, t.ref(), t.index())
		case btf.KindFuncProto:
			h = hashFuncProtoStored(t)
		}
		d.table.add(h, id)
	}
}

// primTypes is pass 1: INT, FLOAT, FWD, ENUM and ENUM64.
func (d *deduper) primTypes() {
	for id := d.first; id < d.n; id++ {
		switch d.kinds[id] {
		case btf.KindInt, btf.KindFwd, btf.KindFloat, btf.KindEnum, btf.KindEnum64:
		default:
			continue
		}
		t := d.typ(id)
		newID := id
		var h uint64
		switch t.kind() {
		case btf.KindInt:
			h = hashInt(t)
			for e := d.table.first(h); e != 0; e = d.table.next(e) {
				if c := d.table.entries[e].id; equalInt(t, d.typ(c)) {
					newID = c
					break
				}
			}
		case btf.KindFwd, btf.KindFloat:
			h = hashCommon(t, sizeWord(t))
			for e := d.table.first(h); e != 0; e = d.table.next(e) {
				if c := d.table.entries[e].id; equalCommon(t, d.typ(c)) {
					newID = c
					break
				}
			}
		case btf.KindEnum, btf.KindEnum64:
			h = hashEnum(t)
			for e := d.table.first(h); e != 0; e = d.table.next(e) {
				c := d.table.entries[e].id
				ct := d.typ(c)
				if equalEnum(t, ct) {
					newID = c
					break
				}
				if compatEnum(t, ct) {
					if isEnumFwd(t) {
						newID = c // a forward declaration joins the full enum
						break
					}
					d.canon[c] = id // an earlier forward declaration joins this enum
				}
			}
		}
		d.canon[id] = newID
		if newID == id {
			d.table.add(h, id)
		}
	}
}

// structTypes is pass 2: STRUCT and UNION (with Libbpf170, TYPEDEF too), by type
// graph equivalence.
func (d *deduper) structTypes() error {
	for id := d.first; id < d.n; id++ {
		k := d.kinds[id]
		typedef := k == btf.KindTypedef && d.v170
		if !k.IsComposite() && !typedef || d.mapped(id) {
			continue // not for this pass, or mapped by an earlier walk's merge
		}
		t := d.typ(id)
		var h uint64
		if typedef {
			h = hashTypedef(t)
		} else {
			h = hashStruct(t)
		}
		newID := id
		for e := d.table.first(h); e != 0; e = d.table.next(e) {
			c := d.table.entries[e].id
			// The shallow check also keeps a FWD that shares the hash from becoming
			// a candidate (FWD and struct are equivalent inside a walk).
			if typedef {
				// libbpf 1.7.0 keyed base typedefs by their referenced ID too, so
				// its look-up by name and info never meets one.
				if c < d.first || !infoEqual(t, d.typ(c)) {
					continue
				}
			} else if !shallowEqualStruct(t, d.typ(c)) {
				continue
			}
			d.clearHypot()
			eq, err := d.isEquiv(id, c, 0)
			if err != nil {
				return err
			}
			if !eq {
				continue
			}
			d.mergeHypot()
			if d.adjustCanon {
				continue // equivalent only if a base FWD changed: not equivalent
			}
			newID = c
			break
		}
		d.canon[id] = newID
		if newID == id {
			d.table.add(h, id)
		}
	}
	return nil
}

func (d *deduper) clearHypot() {
	for _, id := range d.hlist {
		d.hypot[id] = unprocessed
	}
	d.hlist = d.hlist[:0]
	d.adjustCanon = false
}

// fwdKind is the kind a FWD declares.
func fwdKind(t rec) btf.Kind {
	if t.kindFlag() {
		return btf.KindUnion
	}
	return btf.KindStruct
}

// isEquiv walks the candidate graph (from cand) and the canonical graph (from canon)
// side by side and reports whether they describe the same types. It records the
// pairs it assumes equal in hypot (canonical ID -> candidate ID); a pair met again is
// taken as proven, which is what makes cycles terminate. FWDs are resolved on the
// canonical side only: the candidate graph comes from one CU, where each type has
// one record, which keeps hypot a function.
func (d *deduper) isEquiv(cand, canon uint32, depth int) (bool, error) {
	if depth > maxDepth {
		return false, d.errorf(cand, "type graph deeper than %d", maxDepth)
	}
	if d.resolve(cand) == d.resolve(canon) {
		return true, nil
	}
	canon = d.resolveFwd(canon)
	if h := d.hypot[canon]; h <= maxTypes {
		if h == cand {
			return true, nil
		}
		// Compilers sometimes emit twin records of one array or struct inside a CU
		// and use both; accept an exact twin of the type already paired.
		if d.v170 {
			return d.identicalTypes(h, cand, identicalDepth), nil
		}
		return d.identicalArrays(h, cand) || d.identicalStructs(h, cand, identicalDepth), nil
	}
	d.hlist = append(d.hlist, canon)
	d.hypot[canon] = cand

	ct, kt := d.typ(cand), d.typ(canon)
	if ct.name() != kt.name() {
		return false, nil
	}
	ck, kk := ct.kind(), kt.kind()
	if (ck == btf.KindFwd || kk == btf.KindFwd) && ck != kk {
		if ck == btf.KindFwd {
			return fwdKind(ct) == kk, nil
		}
		eq := fwdKind(kt) == ck
		if eq && canon < d.first {
			d.adjustCanon = true // a base FWD would have to resolve to a split type
		}
		return eq, nil
	}
	if ck != kk {
		return false, nil
	}

	switch ck {
	case btf.KindInt:
		return equalInt(ct, kt), nil
	case btf.KindEnum, btf.KindEnum64:
		return compatEnum(ct, kt), nil
	case btf.KindFwd, btf.KindFloat:
		return equalCommon(ct, kt), nil
	case btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindPtr,
		btf.KindTypedef, btf.KindFunc, btf.KindTypeTag:
		if !infoEqual(ct, kt) {
			return false, nil
		}
		return d.isEquiv(ct.ref(), kt.ref(), depth+1)
	case btf.KindArray:
		if !compatArray(ct, kt) {
			return false, nil
		}
		if eq, err := d.isEquiv(ct.index(), kt.index(), depth+1); !eq || err != nil {
			return eq, err
		}
		return d.isEquiv(ct.ref(), kt.ref(), depth+1)
	case btf.KindStruct, btf.KindUnion:
		if !shallowEqualStruct(ct, kt) {
			return false, nil
		}
		for i := range ct.vlen() {
			if eq, err := d.isEquiv(ct.memberType(i), kt.memberType(i), depth+1); !eq || err != nil {
				return eq, err
			}
		}
		return true, nil
	case btf.KindFuncProto:
		if !compatFuncProto(ct, kt) {
			return false, nil
		}
		if eq, err := d.isEquiv(ct.ref(), kt.ref(), depth+1); !eq || err != nil {
			return eq, err
		}
		for i := range ct.vlen() {
			if eq, err := d.isEquiv(ct.memberType(i), kt.memberType(i), depth+1); !eq || err != nil {
				return eq, err
			}
		}
		return true, nil
	}
	return false, d.errorf(cand, "a %s cannot be referenced from a struct, union or function prototype", ck)
}

// identicalArrays reports whether id1 and id2 are arrays with the same fields and
// the same referenced IDs.
func (d *deduper) identicalArrays(id1, id2 uint32) bool {
	t1, t2 := d.typ(id1), d.typ(id2)
	return t1.kind() == btf.KindArray && t2.kind() == btf.KindArray && compatArray(t1, t2) &&
		t1.ref() == t2.ref() && t1.index() == t2.index()
}

// identicalStructs reports whether id1 and id2 are structs (unions) with the same
// fields whose members have the same types or identical array or struct types.
func (d *deduper) identicalStructs(id1, id2 uint32, depth int) bool {
	if depth <= 0 {
		return false
	}
	t1, t2 := d.typ(id1), d.typ(id2)
	if !t1.kind().IsComposite() || t1.kind() != t2.kind() || !shallowEqualStruct(t1, t2) {
		return false
	}
	for i := range t1.vlen() {
		m1, m2 := t1.memberType(i), t2.memberType(i)
		if m1 != m2 && !d.identicalArrays(m1, m2) && !d.identicalStructs(m1, m2, depth-1) {
			return false
		}
	}
	return true
}

// identicalTypes is libbpf 1.7.0's btf_dedup_identical_types: id1 and id2 are
// types of the same kind and fields whose referenced types are the same IDs or, in
// turn, identical, within depth levels of structs, arrays and prototypes (chains of
// the other reference kinds do not count). Arrays are compared by their own fields
// only: libbpf 1.7.0 takes both arrays' element and index types from the first
// array (a2 = btf_array(t1)), so those always agree.
func (d *deduper) identicalTypes(id1, id2 uint32, depth int) bool {
	for steps := 0; ; steps++ {
		if depth <= 0 || steps > maxDepth {
			return false // steps: a malformed cycle of reference types
		}
		t1, t2 := d.typ(id1), d.typ(id2)
		if t1.kind() != t2.kind() {
			return false
		}
		switch t1.kind() {
		case btf.KindUnknown: // void
			return true
		case btf.KindInt:
			return equalInt(t1, t2)
		case btf.KindEnum, btf.KindEnum64:
			return compatEnum(t1, t2)
		case btf.KindFwd, btf.KindFloat:
			return equalCommon(t1, t2)
		case btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindPtr,
			btf.KindTypedef, btf.KindFunc, btf.KindTypeTag:
			if !infoEqual(t1, t2) {
				return false
			}
			id1, id2 = t1.ref(), t2.ref()
		case btf.KindArray:
			return compatArray(t1, t2)
		case btf.KindStruct, btf.KindUnion:
			if !shallowEqualStruct(t1, t2) {
				return false
			}
			for i := range t1.vlen() {
				m1, m2 := t1.memberType(i), t2.memberType(i)
				if m1 != m2 && !d.identicalTypes(m1, m2, depth-1) {
					return false
				}
			}
			return true
		case btf.KindFuncProto:
			if !compatFuncProto(t1, t2) {
				return false
			}
			if r1, r2 := t1.ref(), t2.ref(); r1 != r2 && !d.identicalTypes(r1, r2, depth-1) {
				return false
			}
			for i := range t1.vlen() {
				p1, p2 := t1.memberType(i), t2.memberType(i)
				if p1 != p2 && !d.identicalTypes(p1, p2, depth-1) {
					return false
				}
			}
			return true
		default: // VAR, DATASEC, DECL_TAG
			return false
		}
	}
}

// mergeHypot turns the pairs of a successful walk into canonical mappings: FWDs
// paired with a struct resolve to it (in either graph; a base FWD too, even when the
// walk does not count), and a not yet processed struct paired with a canonical
// struct maps to it early, which spares it a walk of its own.
func (d *deduper) mergeHypot() {
	for _, canonID := range d.hlist {
		t := d.resolve(d.hypot[canonID])
		c := d.resolve(canonID)
		tk, ck := d.kinds[t], d.kinds[c]
		if tk != btf.KindFwd && ck == btf.KindFwd {
			d.canon[c] = t
		}
		if d.adjustCanon {
			continue
		}
		if tk == btf.KindFwd && ck != btf.KindFwd {
			d.canon[t] = c
		}
		if tk.IsComposite() && ck != btf.KindFwd && d.mapped(c) && !d.mapped(t) {
			d.canon[t] = c
		}
	}
}

// resolveFwds is pass 3: a FWD still unresolved resolves to the only canonical
// struct or union of its name, if that has the FWD's kind.
func (d *deduper) resolveFwds() {
	pending := false
	for id := d.first; id < d.n; id++ {
		if d.kinds[id] == btf.KindFwd && d.canon[id] == id {
			pending = true
			break
		}
	}
	if !pending {
		return
	}
	names := make(map[uint32]uint32) // by name offset; only looked up
	for id := uint32(1); id < d.n; id++ {
		if !d.kinds[id].IsComposite() || d.canon[id] != id {
			continue
		}
		name := d.typ(id).name()
		if _, dup := names[name]; dup {
			names[name] = 0 // ambiguous
		} else {
			names[name] = id
		}
	}
	for id := d.first; id < d.n; id++ {
		if d.kinds[id] != btf.KindFwd || d.canon[id] != id {
			continue
		}
		t := d.typ(id)
		if c := names[t.name()]; c != 0 && d.kinds[c] == fwdKind(t) {
			d.canon[id] = c
		}
	}
}

// refTypes is pass 4: the reference kinds, each after the types it references
// (with Libbpf170, typedefs are mapped already).
func (d *deduper) refTypes() error {
	for id := d.first; id < d.n; id++ {
		if d.mapped(id) {
			continue
		}
		if _, err := d.refType(id, 0); err != nil {
			return err
		}
	}
	return nil
}

// candRef is the reference ref of canonical candidate c as libbpf would see it: a
// split type's references were resolved when it was processed (resolving again gives
// the same IDs), a base type's are as stored.
func (d *deduper) candRef(c uint32, ref uint32) uint32 {
	if c < d.first {
		return ref
	}
	return d.resolve(ref)
}

// refType deduplicates reference type id and returns its canonical ID.
func (d *deduper) refType(id uint32, depth int) (uint32, error) {
	switch m := d.canon[id]; {
	case m == inProgress:
		return 0, d.errorf(id, "reference cycle: the type refers back to itself through reference types only")
	case m <= maxTypes:
		return d.resolve(id), nil
	}
	if depth > maxDepth {
		return 0, d.errorf(id, "reference chain longer than %d", maxDepth)
	}
	t := d.typ(id)
	d.canon[id] = inProgress
	newID := id
	var h uint64
	switch t.kind() {
	case btf.KindConst, btf.KindVolatile, btf.KindRestrict, btf.KindPtr,
		btf.KindTypedef, btf.KindFunc, btf.KindTypeTag:
		ref, err := d.refType(t.ref(), depth+1)
		if err != nil {
			return 0, err
		}
		h = hashCommon(t, ref)
		for e := d.table.first(h); e != 0; e = d.table.next(e) {
			c := d.table.entries[e].id
			if ct := d.typ(c); infoEqual(t, ct) && d.candRef(c, ct.ref()) == ref {
				newID = c
				break
			}
		}
	case btf.KindDeclTag:
		ref, err := d.refType(t.ref(), depth+1)
		if err != nil {
			return 0, err
		}
		h = hashDeclTag(t, ref)
		for e := d.table.first(h); e != 0; e = d.table.next(e) {
			c := d.table.entries[e].id
			if ct := d.typ(c); infoEqual(t, ct) && ct.extra() == t.extra() && d.candRef(c, ct.ref()) == ref {
				newID = c
				break
			}
		}
	case btf.KindArray:
		elem, err := d.refType(t.ref(), depth+1)
		if err != nil {
			return 0, err
		}
		index, err := d.refType(t.index(), depth+1)
		if err != nil {
			return 0, err
		}
		h = hashArray(t, elem, index)
		for e := d.table.first(h); e != 0; e = d.table.next(e) {
			c := d.table.entries[e].id
			if ct := d.typ(c); compatArray(t, ct) && d.candRef(c, ct.ref()) == elem && d.candRef(c, ct.index()) == index {
				newID = c
				break
			}
		}
	case btf.KindFuncProto:
		ret, err := d.refType(t.ref(), depth+1)
		if err != nil {
			return 0, err
		}
		start := len(d.stack)
		for i := range t.vlen() {
			p, err := d.refType(t.memberType(i), depth+1)
			if err != nil {
				return 0, err
			}
			d.stack = append(d.stack, p)
		}
		params := d.stack[start:]
		h = hashFuncProto(t, ret, params)
	cands:
		for e := d.table.first(h); e != 0; e = d.table.next(e) {
			c := d.table.entries[e].id
			ct := d.typ(c)
			if !compatFuncProto(t, ct) || d.candRef(c, ct.ref()) != ret {
				continue
			}
			for i := range ct.vlen() {
				if d.candRef(c, ct.memberType(i)) != params[i] {
					continue cands
				}
			}
			newID = c
			break
		}
		d.stack = d.stack[:start]
	default:
		// Every other kind was mapped by an earlier pass.
		return 0, d.errorf(id, "internal error: %s left for the reference pass", t.kind())
	}
	d.canon[id] = newID
	if newID == id {
		d.table.add(h, id)
	}
	return newID, nil
}

// compactAndRemap is passes 5 and 6: number the canonical types in order and decode
// them into the output Spec with every reference replaced by its canonical type's
// new ID.
func (d *deduper) compactAndRemap() (*btf.Spec, []btf.TypeID, error) {
	// The graph walks are over: their hypothetical map becomes the new IDs, every
	// entry of which is written below.
	newID := d.hypot
	d.hypot = nil
	for id := range d.first {
		newID[id] = id // void and the base keep their IDs
	}
	// The canonical types are numbered in ID order: each range of IDs counts its
	// own, then numbers them from the sum of the counts before it.
	rs := d.split(d.first, d.n)
	counts, members := make([]uint32, len(rs)), make([]int, len(rs))
	d.parallel(len(rs), func(i int) error {
		for id := rs[i][0]; id < rs[i][1]; id++ {
			if d.canon[id] == id {
				counts[i]++
				members[i] += d.typ(id).vlen()
			}
		}
		return nil
	})
	next, nmembers := d.first, 0
	for i := range rs {
		first := next
		next += counts[i]
		nmembers += members[i]
		counts[i] = first
	}
	d.parallel(len(rs), func(i int) error {
		next := counts[i]
		for id := rs[i][0]; id < rs[i][1]; id++ {
			if d.canon[id] == id {
				newID[id] = next
				next++
			} else {
				newID[id] = 0 // not output: a reference resolving here is an error
			}
		}
		return nil
	})
	var bad uint32
	remap := func(from uint32, ref btf.TypeID) btf.TypeID {
		if ref == 0 {
			return 0
		}
		r := newID[d.resolve(uint32(ref))]
		if r == 0 && bad == 0 {
			bad = from
		}
		return btf.TypeID(r)
	}

	out := &btf.Spec{Base: d.local.Base(), FirstID: d.local.FirstID(), Types: make([]btf.Type, next-d.first)}
	slab := make([]btf.Member, 0, nmembers)
	k := 0
	for id := d.first; id < d.n; id++ {
		if d.canon[id] != id {
			continue
		}
		t := &out.Types[k]
		k++
		slab = d.local.Decode(btf.TypeID(id), t, slab)
		if t.Kind.HasRef() {
			t.Type = remap(id, t.Type)
		}
		if t.Kind == btf.KindArray {
			t.IndexType = remap(id, t.IndexType)
		}
		if hasRefMembers(t.Kind) {
			for j := range t.Members {
				t.Members[j].Type = remap(id, t.Members[j].Type)
			}
		}
	}
	// Every entry of ids is written below.
	ids := hugepage.MakeNoZero[btf.TypeID](int(d.n-d.first), int(d.n-d.first))
	bads := make([]uint32, len(rs)) // by range: the first type without an output ID
	d.parallel(len(rs), func(i int) error {
		for id := rs[i][0]; id < rs[i][1]; id++ {
			r := newID[d.resolve(id)]
			if r == 0 && bads[i] == 0 {
				bads[i] = id
			}
			ids[id-d.first] = btf.TypeID(r)
		}
		return nil
	})
	for _, b := range bads {
		if bad == 0 {
			bad = b
		}
	}
	if bad != 0 {
		return nil, nil, fmt.Errorf("dedup: internal error: type [%d] has no canonical type after deduplication", bad)
	}
	return out, ids, nil
}
