package finalize

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
	"github.com/rules-btf/rules_btf/internal/parallel"
)

// ErrInput marks a shard that contradicts itself (a candidate naming a type that
// is not there, a reference out of range); errors.Is finds it.
var ErrInput = errors.New("inconsistent shard")

// Combine builds the not-yet-deduplicated BTF of the image that shards (in link
// order) were converted from: their types, the FUNCs and VARs pahole would add and
// the DATASECs. img may be nil: then, as pahole without a symbol table, every
// external function gets a FUNC and no variable is emitted. Combine does not modify
// the shards, and the result shares no memory with them. See the package comment
// for the rules.
func Combine(shards []*shard.Shard, img *Image, opts Options) (*btf.Spec, error) {
	t, err := combine(shards, img, opts, false)
	if err != nil {
		return nil, err
	}
	return t.Spec(), nil
}

// CombineOwned is Combine for a caller that hands the shards over (a merge reads
// them for this one call), with the result as a Table, which the dedup takes as it
// is (dedup.DedupTable): a vmlinux-sized result is millions of types, a third of
// the memory of a Spec. The result refers to the shards' type records, rewritten in
// place, rather than copying them. Afterwards, or after an error, the shards are
// not usable.
func CombineOwned(shards []*shard.Shard, img *Image, opts Options) (*btf.Table, error) {
	return combine(shards, img, opts, true)
}

func combine(shards []*shard.Shard, img *Image, opts Options, owned bool) (*btf.Table, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("finalize: %w", err)
	}
	c, err := newCombiner(shards, img, opts)
	if err != nil {
		return nil, fmt.Errorf("finalize: %w", err)
	}
	c.owned = owned
	spec, err := c.run()
	if err != nil {
		return nil, fmt.Errorf("finalize: %w", err)
	}
	return spec, nil
}

// combiner is the state of one Combine call.
type combiner struct {
	img    *Image
	opts   Options
	x      *imageIndex
	shards []*shardCtx
	owned  bool // CombineOwned: link the shards' records, release their tables

	objSeen map[objKey]int    // resolveObject's occurrence counters
	kfuncs  map[string]uint32 // TagKfuncs: kfunc flags by function name

	out *btf.Table
	err error // the first error adding a type to out (emit)
	// secEntries collects each DATASEC's entries (new VAR IDs), by section index.
	secEntries map[int][]btf.Member
	secOrder   []int // sections with entries, in index order (sorted at the end)
}

// shardCtx is what Combine knows about one shard.
type shardCtx struct {
	s      *shard.Shard
	n      btf.TypeID // the shard's number of types (its table may be released)
	linked bool
	cuEnd  []btf.TypeID // CU i's VARs go after type cuEnd[i] (0: before all)
	// drop marks candidate FUNC_PROTOs that are not emitted in place.
	drop []bool
	// inline are the 1.24 FUNCs of this shard, by FUNC_PROTO ID (stable).
	inline []int
	vars   []varOut
	remap  []btf.TypeID
	// cp copies (or links) the shard's types into the result; unpatched are the
	// kept types, in ID order, that patchShards left for it to link.
	cp        *btf.Copier
	unpatched []btf.TypeID
}

func (sc *shardCtx) cuName(cu uint32) string {
	if int(cu) < len(sc.s.CUs) {
		return sc.s.CUs[cu].Name
	}
	return fmt.Sprintf("#%d", cu)
}

func (sc *shardCtx) cuBase(cu uint32) string {
	if int(cu) < len(sc.s.CUs) {
		return baseName(sc.s.CUs[cu].Name)
	}
	return ""
}

func newCombiner(shards []*shard.Shard, img *Image, opts Options) (*combiner, error) {
	x, err := newImageIndex(img, opts)
	if err != nil {
		if img != nil {
			return nil, fmt.Errorf("%s: %w", img.Path, err)
		}
		return nil, err
	}
	c := &combiner{
		img: img, opts: opts, x: x,
		objSeen:    make(map[objKey]int),
		secEntries: make(map[int][]btf.Member),
	}
	if opts.TagKfuncs {
		if c.kfuncs, err = collectKfuncs(img); err != nil {
			return nil, err
		}
	}
	if c.img == nil {
		c.img = &Image{}
	}
	for i, s := range shards {
		if err := checkShard(s); err != nil {
			if s != nil {
				return nil, fmt.Errorf("shard %d (%s): %w", i, s.Source, err)
			}
			return nil, fmt.Errorf("shard %d: %w", i, err)
		}
		sc := &shardCtx{s: s, n: btf.TypeID(s.Types.Len())}
		switch opts.Inputs {
		case LinkedInputs:
			sc.linked = true
		case ShardInputs:
			sc.linked = s.Linked
		}
		c.shards = append(c.shards, sc)
	}
	return c, nil
}

// checkShard verifies what Combine relies on: candidates name existing CUs, a
// FUNC_PROTO and a type in range.
func checkShard(s *shard.Shard) error {
	if s == nil || s.Types == nil {
		return fmt.Errorf("%w: no types", ErrInput)
	}
	for i := range s.Funcs {
		f := &s.Funcs[i]
		if int(f.CU) >= len(s.CUs) {
			return fmt.Errorf("%w: function %d %q: CU %d of %d", ErrInput, i, f.Name, f.CU, len(s.CUs))
		}
		if f.Proto == 0 || int(f.Proto) > s.Types.Len() || s.Types.Kind(f.Proto) != btf.KindFuncProto {
			return fmt.Errorf("%w: function %d %q: type %d is not a FUNC_PROTO", ErrInput, i, f.Name, f.Proto)
		}
	}
	n := btf.TypeID(s.Types.Len())
	for i := range s.Vars {
		v := &s.Vars[i]
		if int(v.CU) >= len(s.CUs) {
			return fmt.Errorf("%w: variable %d %q: CU %d of %d", ErrInput, i, v.Name, v.CU, len(s.CUs))
		}
		if v.Type > n {
			return fmt.Errorf("%w: variable %d %q: type %d out of range (%d types)", ErrInput, i, v.Name, v.Type, n)
		}
	}
	return nil
}

func (c *combiner) run() (*btf.Table, error) {
	var inline, tail []candRef
	if c.opts.Compat == Pahole124 {
		inline = c.selectFuncs124()
	} else {
		tail = c.selectFuncs132()
	}
	for _, r := range inline {
		sc := c.shards[r.shard]
		sc.inline = append(sc.inline, r.fn)
	}
	c.parallel(func(sc *shardCtx) error { c.prepareTypes(sc); return nil })
	for _, sc := range c.shards {
		vars, err := c.selectVars(sc)
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(vars, func(a, b varOut) int { return cmp.Compare(a.cu, b.cu) })
		sc.vars = vars
	}

	// Pass 1 numbers the output, pass 2 fills it: a type may refer to a later one.
	next := btf.TypeID(1)
	for _, sc := range c.shards {
		sc.remap = make([]btf.TypeID, sc.n+1)
		c.walk(sc, func(it item) {
			switch it.kind {
			case itemTypes:
				for id := it.id; id < it.end; id++ {
					sc.remap[id] = next
					next++
				}
			case itemFunc:
				next += 1 + btf.TypeID(len(c.declTags(sc.s.Funcs[it.fn].DeclTags)))
			case itemVar:
				next += 1 + btf.TypeID(len(c.declTags(sc.vars[it.v].tags)))
			}
		})
	}
	ntail := c.tailTypes(tail)
	c.out = btf.NewTable()
	nrecs, ntypes := 0, int(next-1)+ntail+len(c.img.Sections)
	if !c.owned {
		for _, sc := range c.shards {
			_, recs := sc.s.Types.Sections()
			nrecs += len(recs)
		}
	}
	// The shards' records when copied (less dropped ones), plus FUNCs and VARs.
	c.out.Reserve(ntypes, nrecs+(ntypes-int(next-1))*16)
	for _, sc := range c.shards {
		sc.cp = btf.NewCopier(c.out, sc.s.Types)
	}
	// The 1.32 FUNCs come after all shards' types, each with a copy of its
	// FUNC_PROTO: their records are staged first, from the shards' records as
	// they are, which patchShards then rewrites, and numbered after pass 2.
	tailOffs := make([]uint32, 0, ntail)
	for _, r := range tail {
		var err error
		if tailOffs, err = c.stageTailFunc(tailOffs, next, r); err != nil {
			return nil, err
		}
	}
	if c.owned {
		if err := c.patchShards(); err != nil {
			return nil, err
		}
	}
	for _, sc := range c.shards {
		var err error
		c.walk(sc, func(it item) {
			if err != nil {
				return
			}
			switch it.kind {
			case itemTypes:
				err = c.copyTypes(sc, it.id, it.end)
			case itemFunc:
				f := &sc.s.Funcs[it.fn]
				id := c.emit(btf.Type{Name: f.Name, Kind: btf.KindFunc, Type: sc.remap[f.Proto], Linkage: btf.LinkageStatic})
				c.addDeclTags(c.emit, id, f.DeclTags)
			case itemVar:
				c.addVar(sc, &sc.vars[it.v])
			}
		})
		if err != nil {
			return nil, err
		}
		if c.owned {
			sc.s.Types = nil
			sc.remap, sc.drop, sc.cp, sc.unpatched = nil, nil, nil, nil
		}
	}
	if first := c.out.Number(tailOffs...); first != next {
		return nil, fmt.Errorf("internal error: the 1.32 FUNCs start at type %d, numbered from %d", first, next)
	}
	c.addDatasecs()
	if c.err != nil {
		return nil, c.err
	}
	return c.out, nil
}

// copyTypes copies the shard's types [first, end) into the result, renumbered; a
// shard the combiner owns is not copied from but linked: patchShards rewrote its
// records in place, which the result then refers to (btf.Copier.AppendRange).
func (c *combiner) copyTypes(sc *shardCtx, first, end btf.TypeID) error {
	if c.owned && (len(sc.unpatched) == 0 || sc.unpatched[0] >= end) {
		got, err := sc.cp.AppendRange(first, end)
		if err != nil {
			return c.typeError(sc, first, err)
		}
		if got != sc.remap[first] {
			return fmt.Errorf("%s: internal error: type %d copied as %d, numbered %d", sc.s.Source, first, got, sc.remap[first])
		}
		return nil
	}
	for id := first; id < end; id++ {
		var got btf.TypeID
		var err error
		switch {
		case !c.owned:
			got, err = sc.cp.Copy(id, sc.remap)
		case len(sc.unpatched) > 0 && sc.unpatched[0] == id:
			sc.unpatched = sc.unpatched[1:]
			got, err = sc.cp.Link(id, sc.remap)
		default:
			got, err = sc.cp.AppendRange(id, id+1)
		}
		if err != nil {
			return c.typeError(sc, id, err)
		}
		if got != sc.remap[id] {
			return fmt.Errorf("%s: internal error: type %d copied as %d, numbered %d", sc.s.Source, id, got, sc.remap[id])
		}
	}
	return nil
}

func (c *combiner) typeError(sc *shardCtx, id btf.TypeID, err error) error {
	t := sc.s.Types.Type(id)
	return fmt.Errorf("%s: %w: type %d (%v %q) %v (%d types)", sc.s.Source, ErrInput, id, t.Kind, t.Name, err, sc.n)
}

// patchShards rewrites the kept type records of every shard in place for the
// result (btf.Copier.Patch), several shards at a time: a vmlinux merge rewrites
// millions. The names of all shards are first added to the result, in shard
// order, so that patching only reads it. The walk then appends the records in
// order; a record Patch left (a name inside a string) it links instead.
func (c *combiner) patchShards() error {
	for _, sc := range c.shards {
		if err := sc.cp.InternNames(); err != nil {
			return fmt.Errorf("%s: %w: %w", sc.s.Source, ErrInput, err)
		}
	}
	return c.parallel(func(sc *shardCtx) error {
		for id := btf.TypeID(1); id <= sc.n; id++ {
			if sc.drop[id] {
				continue
			}
			ok, err := sc.cp.Patch(id, sc.remap)
			if err != nil {
				return c.typeError(sc, id, err)
			}
			if !ok {
				sc.unpatched = append(sc.unpatched, id)
			}
		}
		return nil
	})
}

// parallel calls fn for every shard, opts.Jobs at a time, and returns the error of
// the first shard (in shard order) that failed, whichever failed first.
func (c *combiner) parallel(fn func(sc *shardCtx) error) error {
	return parallel.Each(len(c.shards), c.opts.Jobs, func(i int) error { return fn(c.shards[i]) })
}

// emit adds t to the result and returns its ID; the first error (a type with no
// wire encoding) is kept for run to return.
func (c *combiner) emit(t btf.Type) btf.TypeID {
	id, err := c.out.Add(&t)
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("type %d (%v %q): %w", c.out.NextID(), t.Kind, t.Name, err)
	}
	return id
}

// prepareTypes decides which candidate FUNC_PROTOs of a shard stay and where each
// of its CUs ends. It reads only the shard: shards are prepared in parallel.
func (c *combiner) prepareTypes(sc *shardCtx) {
	s := sc.s
	n := s.Types.Len()
	isCand := make([]bool, n+1)
	for i := range s.Funcs {
		isCand[s.Funcs[i].Proto] = true
	}
	// A candidate FUNC_PROTO that another type refers to stays where it is.
	pinned := make([]bool, n+1)
	for id := btf.TypeID(1); int(id) <= n; id++ {
		s.Types.ForEachRef(id, func(ref btf.TypeID) {
			if int(ref) <= n && isCand[ref] {
				pinned[ref] = true
			}
		})
	}
	sc.drop = make([]bool, n+1)
	for id := 1; id <= n; id++ {
		sc.drop[id] = isCand[id] && !pinned[id]
	}
	slices.SortStableFunc(sc.inline, func(a, b int) int { return cmp.Compare(s.Funcs[a].Proto, s.Funcs[b].Proto) })
	for _, fi := range sc.inline {
		sc.drop[s.Funcs[fi].Proto] = false
	}

	// Where CU i's types end: the encoder records it (CU.TypesEnd). Shards built
	// without it (TypesEnd 0) end a CU at its last candidate FUNC_PROTO (the
	// encoder appends them after the CU's types), never before the end of CU
	// i-1, and the last CU with the shard.
	sc.cuEnd = make([]btf.TypeID, len(s.CUs))
	for i := range s.Funcs {
		f := &s.Funcs[i]
		sc.cuEnd[f.CU] = max(sc.cuEnd[f.CU], f.Proto)
	}
	for i := range sc.cuEnd {
		if end := s.CUs[i].TypesEnd; end != 0 {
			sc.cuEnd[i] = min(end-1, btf.TypeID(n))
		} else if i == len(sc.cuEnd)-1 {
			sc.cuEnd[i] = btf.TypeID(n)
		}
		if i > 0 {
			sc.cuEnd[i] = max(sc.cuEnd[i], sc.cuEnd[i-1])
		}
	}
}

type itemKind uint8

const (
	itemTypes itemKind = iota // the types [id, end) of the shard
	itemFunc                  // a 1.24 FUNC for candidate fn
	itemVar                   // the VAR vars[v]
)

type item struct {
	kind    itemKind
	id, end btf.TypeID
	fn      int
	v       int
}

// walk visits a shard's output in order: its kept types, in runs of consecutive
// IDs, each 1.24 FUNC after its FUNC_PROTO, each CU's VARs after the CU's last
// type.
func (c *combiner) walk(sc *shardCtx, visit func(item)) {
	n := sc.n
	fi, cu, vi := 0, 0, 0
	run := btf.TypeID(0) // the first kept type not visited yet (0: none)
	flush := func(end btf.TypeID) {
		if run != 0 {
			visit(item{kind: itemTypes, id: run, end: end})
			run = 0
		}
	}
	trailer := func(id btf.TypeID) {
		for cu < len(sc.cuEnd) && sc.cuEnd[cu] == id {
			for vi < len(sc.vars) && sc.vars[vi].cu == uint32(cu) {
				flush(id + 1)
				visit(item{kind: itemVar, v: vi})
				vi++
			}
			cu++
		}
	}
	trailer(0)
	for id := btf.TypeID(1); id <= n; id++ {
		if sc.drop[id] {
			flush(id)
		} else if run == 0 {
			run = id
		}
		for fi < len(sc.inline) && sc.s.Funcs[sc.inline[fi]].Proto == id {
			flush(id + 1)
			visit(item{kind: itemFunc, fn: sc.inline[fi]})
			fi++
		}
		trailer(id)
	}
	flush(n + 1)
	// Only reachable for a shard without CUs, which has no variables.
	for ; vi < len(sc.vars); vi++ {
		visit(item{kind: itemVar, v: vi})
	}
}

func (c *combiner) addVar(sc *shardCtx, v *varOut) {
	id := c.emit(btf.Type{Name: v.name, Kind: btf.KindVar, Type: sc.remap[v.typ], Linkage: v.linkage})
	c.addDeclTags(c.emit, id, v.tags)
	if _, ok := c.secEntries[v.sec]; !ok {
		c.secOrder = append(c.secOrder, v.sec)
	}
	c.secEntries[v.sec] = append(c.secEntries[v.sec], btf.Member{Type: id, Offset: v.off, Size: v.size})
}

// stageTailFunc stages a 1.32 FUNC, with a fresh copy of its FUNC_PROTO, in the
// result (btf.Table.Stage), after the tail types staged at offs, the first of
// which will be type first; it returns offs with the new ones appended.
func (c *combiner) stageTailFunc(offs []uint32, first btf.TypeID, r candRef) ([]uint32, error) {
	sc := c.shards[r.shard]
	f := &sc.s.Funcs[r.fn]
	stage := func(t btf.Type) btf.TypeID {
		id := first + btf.TypeID(len(offs))
		off, err := c.out.Stage(&t)
		if err != nil && c.err == nil {
			c.err = fmt.Errorf("type %d (%v %q): %w", id, t.Kind, t.Name, err)
		}
		offs = append(offs, off)
		return id
	}
	pid := first + btf.TypeID(len(offs))
	if c.arenaFlags(f.Name) != 0 {
		proto, err := c.arenaProto(sc, f, stage)
		if err != nil {
			return nil, err
		}
		pid = stage(*proto)
	} else {
		off, err := sc.cp.Stage(f.Proto, sc.remap)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: FUNC_PROTO %d of %q %v", sc.s.Source, ErrInput, f.Proto, f.Name, err)
		}
		offs = append(offs, off)
	}
	// The FUNC is named after the ELF function (the name before any '.'), which
	// is the DWARF name it was found by.
	id := stage(btf.Type{Name: f.Name, Kind: btf.KindFunc, Type: pid, Linkage: btf.LinkageStatic})
	c.addDeclTags(stage, id, f.DeclTags)
	for _, tag := range c.kfuncTags(f.Name) {
		stage(btf.Type{Name: tag.Value, Kind: btf.KindDeclTag, Type: id, ComponentIdx: tag.Component})
	}
	if c.err != nil {
		return nil, c.err
	}
	return offs, nil
}

// declTags are the btf_decl_tag annotations to emit: none with SkipDeclTags.
func (c *combiner) declTags(tags []shard.DeclTag) []shard.DeclTag {
	if c.opts.SkipDeclTags {
		return nil
	}
	return tags
}

// addDeclTags emits a DECL_TAG per annotation of the FUNC or VAR id with add, right
// after it, as pahole does.
func (c *combiner) addDeclTags(add func(btf.Type) btf.TypeID, id btf.TypeID, tags []shard.DeclTag) {
	for _, tag := range c.declTags(tags) {
		add(btf.Type{Name: tag.Value, Kind: btf.KindDeclTag, Type: id, ComponentIdx: tag.Component})
	}
}

// addDatasecs emits one DATASEC per section with variables, in section index order:
// entries sorted by offset (stably), size = the last entry's end, as pahole's
// btf_encoder__add_datasec.
func (c *combiner) addDatasecs() {
	slices.Sort(c.secOrder)
	for _, sec := range c.secOrder {
		ms := c.secEntries[sec]
		slices.SortStableFunc(ms, func(a, b btf.Member) int { return cmp.Compare(a.Offset, b.Offset) })
		last := ms[len(ms)-1]
		c.emit(btf.Type{
			Name:    c.img.Sections[sec].Name,
			Kind:    btf.KindDatasec,
			Size:    last.Offset + last.Size,
			Members: ms,
		})
	}
}

// tailTypes is how many types stageTailFunc stages for tail.
func (c *combiner) tailTypes(tail []candRef) int {
	n := 0
	for _, r := range tail {
		f := &c.shards[r.shard].s.Funcs[r.fn]
		n += 2 + len(c.declTags(f.DeclTags)) + len(c.kfuncTags(f.Name))
		n += 2 * bits.OnesCount32(c.arenaFlags(f.Name)) // a TYPE_TAG and a PTR each
	}
	return n
}
