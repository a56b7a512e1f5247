package shard

// The shard file format, version 2.
//
// A shard is written once by a BtfConvert action and read once by a BtfMerge action,
// usually on another machine: it is a build artifact, so it must be byte-for-byte
// deterministic, cheap to read, and must reject corruption with a located error.
//
//	file    = magic version:uvarint body crc32c:u32le
//	magic   = "RBTFSHRD"
//	body    = source:str shardflags:uvarint strings cus types funcs vars
//	strings = count:uvarint { len:uvarint bytes }      // the string table; index 0 is ""
//	cus     = count:uvarint { name:sref offset:uvarint typesend:uvarint }
//	types   = count:uvarint { type }                   // IDs 1..count
//	type    = kind:u8 present:uvarint fields... members
//	funcs   = count:uvarint { name:sref proto:uvarint cu:uvarint flags:uvarint lowpc:uvarint tags }
//	vars    = count:uvarint { name:sref type:uvarint cu:uvarint flags:uvarint addr:uvarint section:sref tags }
//	tags    = count:uvarint { value:sref component+1:uvarint }
//
// shardflags, the funcs' and the vars' flags are bit sets (the shard*, func* and var*
// constants below, in field order of Shard, Func and Var).
//
// A "sref" is a uvarint index into the string table; "str" is len:uvarint bytes. A
// type's present bitmask says which of its scalar fields follow (in the order of the
// field* constants below); absent fields are zero. KindFlag is a bit of the same mask.
// Members follow when fieldMembers is present: count:uvarint, then per member a
// present mask and its non-zero fields. Strings are numbered in order of first use
// while writing, so equal shards give equal bytes. The CRC (Castagnoli) covers
// everything before it.
//
// Readers reject any other magic or version, counts larger than the remaining bytes
// could hold, type references past the last type, and string references past the
// table, each with the byte offset where the problem is.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/mapfile"
)

const (
	magic   = "RBTFSHRD"
	version = 2
)

// Type field presence bits.
const (
	fieldName = 1 << iota
	fieldKindFlag
	fieldIntEncoding
	fieldIntOffset
	fieldIntBits
	fieldSize
	fieldType
	fieldIndexType
	fieldNelems
	fieldLinkage
	fieldComponentIdx
	fieldMembers
)

// Member field presence bits.
const (
	memberName = 1 << iota
	memberType
	memberOffset
	memberSize
	memberValue
)

// Func and Var flag bits.
const (
	funcExternal = 1 << iota
	funcDeclaration
	funcInline
	funcHasLowPC
	funcAllParamsNamed
	funcOptimizedParams
	funcUnexpectedReg
	funcReorderedParams
	funcSignatureChanged
	funcUncertainParamLoc
)

const (
	varExternal = 1 << iota
	varDeclaration
	varHasAddr
	varSpecification
	varTopLevel
	varArtificial
)

// Shard flag bits.
const (
	shardLinked = 1 << iota
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrFormat is wrapped by every error about a malformed shard.
var ErrFormat = errors.New("malformed shard")

// Marshal encodes s in the shard format.
func Marshal(s *Shard) ([]byte, error) {
	if s.Types == nil || s.Types.FirstID != 1 || s.Types.Base != nil {
		return nil, fmt.Errorf("shard %s: types must be a standalone spec", s.Source)
	}
	w := &writer{index: map[string]uint64{"": 0}, strs: []string{""}}
	// Body first, into its own buffer, so the string table (built while writing
	// the body) can precede it.
	var body bytes.Buffer
	w.buf = &body
	w.uvarint(uint64(len(s.CUs)))
	for _, cu := range s.CUs {
		w.sref(cu.Name)
		w.uvarint(cu.Offset)
		w.uvarint(uint64(cu.TypesEnd))
	}
	w.uvarint(uint64(len(s.Types.Types)))
	for i := range s.Types.Types {
		w.typ(&s.Types.Types[i])
	}
	w.uvarint(uint64(len(s.Funcs)))
	for i := range s.Funcs {
		f := &s.Funcs[i]
		w.sref(f.Name)
		w.uvarint(uint64(f.Proto))
		w.uvarint(uint64(f.CU))
		w.uvarint(flags(f.External, f.Declaration, f.Inline, f.HasLowPC, f.AllParamsNamed, f.OptimizedParams, f.UnexpectedReg,
			f.ReorderedParams, f.SignatureChanged, f.UncertainParamLoc))
		w.uvarint(f.LowPC)
		w.tags(f.DeclTags)
	}
	w.uvarint(uint64(len(s.Vars)))
	for i := range s.Vars {
		v := &s.Vars[i]
		w.sref(v.Name)
		w.uvarint(uint64(v.Type))
		w.uvarint(uint64(v.CU))
		w.uvarint(flags(v.External, v.Declaration, v.HasAddr, v.Specification, v.TopLevel, v.Artificial))
		w.uvarint(v.Addr)
		w.sref(v.Section)
		w.tags(v.DeclTags)
	}

	var out bytes.Buffer
	out.Grow(body.Len() + 64)
	w.buf = &out
	out.WriteString(magic)
	w.uvarint(version)
	w.str(s.Source)
	w.uvarint(flags(s.Linked))
	w.uvarint(uint64(len(w.strs)))
	for _, str := range w.strs {
		w.str(str)
	}
	out.Write(body.Bytes())
	out.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(out.Bytes(), crcTable)))
	return out.Bytes(), nil
}

func flags(bits ...bool) uint64 {
	var f uint64
	for i, b := range bits {
		if b {
			f |= 1 << i
		}
	}
	return f
}

type writer struct {
	buf   *bytes.Buffer
	index map[string]uint64
	strs  []string
	tmp   [binary.MaxVarintLen64]byte
}

func (w *writer) uvarint(v uint64) { w.buf.Write(binary.AppendUvarint(w.tmp[:0], v)) }

func (w *writer) str(s string) {
	w.uvarint(uint64(len(s)))
	w.buf.WriteString(s)
}

func (w *writer) sref(s string) {
	i, ok := w.index[s]
	if !ok {
		i = uint64(len(w.strs))
		w.index[s] = i
		w.strs = append(w.strs, s)
	}
	w.uvarint(i)
}

func (w *writer) tags(tags []DeclTag) {
	w.uvarint(uint64(len(tags)))
	for _, t := range tags {
		w.sref(t.Value)
		w.uvarint(uint64(int64(t.Component) + 1))
	}
}

func (w *writer) typ(t *btf.Type) {
	var present uint64
	set := func(bit uint64, nonzero bool) {
		if nonzero {
			present |= bit
		}
	}
	set(fieldName, t.Name != "")
	set(fieldKindFlag, t.KindFlag)
	set(fieldIntEncoding, t.IntEncoding != 0)
	set(fieldIntOffset, t.IntOffset != 0)
	set(fieldIntBits, t.IntBits != 0)
	set(fieldSize, t.Size != 0)
	set(fieldType, t.Type != 0)
	set(fieldIndexType, t.IndexType != 0)
	set(fieldNelems, t.Nelems != 0)
	set(fieldLinkage, t.Linkage != 0)
	set(fieldComponentIdx, t.ComponentIdx != 0)
	set(fieldMembers, len(t.Members) != 0)
	w.buf.WriteByte(byte(t.Kind))
	w.uvarint(present)
	if present&fieldName != 0 {
		w.sref(t.Name)
	}
	for _, f := range []struct {
		bit uint64
		v   uint64
	}{
		{fieldIntEncoding, uint64(t.IntEncoding)},
		{fieldIntOffset, uint64(t.IntOffset)},
		{fieldIntBits, uint64(t.IntBits)},
		{fieldSize, uint64(t.Size)},
		{fieldType, uint64(t.Type)},
		{fieldIndexType, uint64(t.IndexType)},
		{fieldNelems, uint64(t.Nelems)},
		{fieldLinkage, uint64(t.Linkage)},
		{fieldComponentIdx, zigzag(int64(t.ComponentIdx))},
	} {
		if present&f.bit != 0 {
			w.uvarint(f.v)
		}
	}
	if present&fieldMembers == 0 {
		return
	}
	w.uvarint(uint64(len(t.Members)))
	enum := t.Kind.IsEnum()
	for i := range t.Members {
		m := &t.Members[i]
		// An enumerator's value is written as such, not as the Offset and Size
		// that hold it in memory (btf.Member).
		offset, size, value := m.Offset, m.Size, uint64(0)
		if enum {
			offset, size, value = 0, 0, m.Value()
		}
		var mp uint64
		if m.Name != "" {
			mp |= memberName
		}
		if m.Type != 0 {
			mp |= memberType
		}
		if offset != 0 {
			mp |= memberOffset
		}
		if size != 0 {
			mp |= memberSize
		}
		if value != 0 {
			mp |= memberValue
		}
		w.uvarint(mp)
		if mp&memberName != 0 {
			w.sref(m.Name)
		}
		if mp&memberType != 0 {
			w.uvarint(uint64(m.Type))
		}
		if mp&memberOffset != 0 {
			w.uvarint(uint64(offset))
		}
		if mp&memberSize != 0 {
			w.uvarint(uint64(size))
		}
		if mp&memberValue != 0 {
			w.uvarint(value)
		}
	}
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Unmarshal decodes a shard. name is used in error messages (the file path).
func Unmarshal(data []byte, name string) (*Shard, error) {
	if len(data) < len(magic)+4 {
		return nil, fmt.Errorf("shard %s: %w: %d bytes is too short", name, ErrFormat, len(data))
	}
	if string(data[:len(magic)]) != magic {
		return nil, fmt.Errorf("shard %s: offset 0: %w: bad magic %q", name, ErrFormat, data[:len(magic)])
	}
	payload, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32.Checksum(payload, crcTable); got != sum {
		return nil, fmt.Errorf("shard %s: offset %d: %w: checksum %08x, want %08x (truncated or corrupted)", name, len(payload), ErrFormat, got, sum)
	}
	r := &reader{data: payload, off: len(magic)}
	s, err := r.shard()
	if err != nil {
		return nil, fmt.Errorf("shard %s: offset %d: %w: %v", name, r.off, ErrFormat, err)
	}
	if r.off != len(payload) {
		return nil, fmt.Errorf("shard %s: offset %d: %w: %d trailing bytes", name, r.off, ErrFormat, len(payload)-r.off)
	}
	return s, nil
}

type reader struct {
	data []byte
	off  int
	strs []string
	// marena is where member lists are carved from: a shard of a vmlinux-sized
	// input has millions of members, and one allocation per type's list would
	// dominate decoding and the garbage collector's work.
	marena []btf.Member
}

// memberChunk is how many members the reader allocates at a time.
const memberChunk = 1 << 14

// members returns a zeroed list of n members carved from the reader's arena. Its
// capacity is its length, so that appending to it never writes into a neighbour's
// members.
func (r *reader) members(n int) []btf.Member {
	if cap(r.marena)-len(r.marena) < n {
		r.marena = make([]btf.Member, 0, max(memberChunk, n))
	}
	k := len(r.marena)
	r.marena = r.marena[:k+n]
	return r.marena[k : k+n : k+n]
}

var errShort = errors.New("unexpected end of data")

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.data[r.off:])
	if n <= 0 {
		if n == 0 {
			return 0, errShort
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	r.off += n
	return v, nil
}

// count reads a element count and checks that at least minSize bytes per element
// remain, so a corrupt count cannot make us allocate without bound.
func (r *reader) count(what string, minSize int) (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.data)-r.off)/uint64(minSize) {
		return 0, fmt.Errorf("%s count %d exceeds the remaining %d bytes", what, v, len(r.data)-r.off)
	}
	return int(v), nil
}

func (r *reader) u32(what string) (uint32, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("%s %d out of range", what, v)
	}
	return uint32(v), nil
}

func (r *reader) str() (string, error) {
	n, err := r.count("string length", 1)
	if err != nil {
		return "", err
	}
	s := string(r.data[r.off : r.off+n])
	r.off += n
	return s, nil
}

func (r *reader) sref() (string, error) {
	i, err := r.uvarint()
	if err != nil {
		return "", err
	}
	if i >= uint64(len(r.strs)) {
		return "", fmt.Errorf("string index %d past the table of %d", i, len(r.strs))
	}
	return r.strs[i], nil
}

func (r *reader) typeRef(ntypes int) (btf.TypeID, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(ntypes) {
		return 0, fmt.Errorf("type reference %d past the last type %d", v, ntypes)
	}
	return btf.TypeID(v), nil
}

func (r *reader) shard() (*Shard, error) {
	v, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if v != version {
		return nil, fmt.Errorf("version %d, this tool reads version %d", v, version)
	}
	s := &Shard{Types: btf.NewSpec()}
	if s.Source, err = r.str(); err != nil {
		return nil, err
	}
	sfl, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	s.Linked = sfl&shardLinked != 0
	nstr, err := r.count("string", 1)
	if err != nil {
		return nil, err
	}
	// The table is read twice: once to find its end, then as slices of one string
	// that holds it all, so that its strings cost one allocation, not one each.
	start := r.off
	ends := make([]int, nstr)
	for i := range ends {
		n, err := r.count("string length", 1)
		if err != nil {
			return nil, err
		}
		r.off += n
		ends[i] = r.off - start
	}
	table := string(r.data[start:r.off])
	r.strs = make([]string, nstr)
	for i, off := 0, 0; i < nstr; i++ {
		_, n := binary.Uvarint(r.data[start+off:])
		r.strs[i] = table[off+n : ends[i]]
		off = ends[i]
	}
	if nstr == 0 || r.strs[0] != "" {
		return nil, errors.New("string table must start with the empty string")
	}
	ncu, err := r.count("CU", 3)
	if err != nil {
		return nil, err
	}
	s.CUs = make([]CU, ncu)
	cuEnds := make([]uint64, ncu)
	for i := range s.CUs {
		if s.CUs[i].Name, err = r.sref(); err != nil {
			return nil, err
		}
		if s.CUs[i].Offset, err = r.uvarint(); err != nil {
			return nil, err
		}
		if cuEnds[i], err = r.uvarint(); err != nil {
			return nil, err
		}
	}
	ntypes, err := r.count("type", 2)
	if err != nil {
		return nil, err
	}
	prevEnd := uint64(1)
	for i, end := range cuEnds {
		// TypesEnd is 0 only in shards written without unit bounds.
		if end != 0 && (end < prevEnd || end > uint64(ntypes)+1) {
			return nil, fmt.Errorf("CU %d: types end at %d, outside [%d,%d]", i, end, prevEnd, ntypes+1)
		}
		if end != 0 {
			prevEnd = end
		}
		s.CUs[i].TypesEnd = btf.TypeID(end)
	}
	s.Types.Types = make([]btf.Type, ntypes)
	for i := range s.Types.Types {
		if err := r.typ(&s.Types.Types[i], ntypes); err != nil {
			return nil, fmt.Errorf("type %d: %w", i+1, err)
		}
	}
	cuRef := func() (uint32, error) {
		v, err := r.uvarint()
		if err == nil && v >= uint64(ncu) {
			err = fmt.Errorf("CU index %d past the %d CUs", v, ncu)
		}
		return uint32(v), err
	}
	nfunc, err := r.count("func", 6)
	if err != nil {
		return nil, err
	}
	s.Funcs = make([]Func, nfunc)
	for i := range s.Funcs {
		f := &s.Funcs[i]
		var fl uint64
		if f.Name, err = r.sref(); err == nil {
			if f.Proto, err = r.typeRef(ntypes); err == nil {
				if f.CU, err = cuRef(); err == nil {
					if fl, err = r.uvarint(); err == nil {
						if f.LowPC, err = r.uvarint(); err == nil {
							f.DeclTags, err = r.tags()
						}
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("func %d: %w", i, err)
		}
		f.External, f.Declaration, f.Inline = fl&funcExternal != 0, fl&funcDeclaration != 0, fl&funcInline != 0
		f.HasLowPC, f.AllParamsNamed = fl&funcHasLowPC != 0, fl&funcAllParamsNamed != 0
		f.OptimizedParams, f.UnexpectedReg = fl&funcOptimizedParams != 0, fl&funcUnexpectedReg != 0
		f.ReorderedParams, f.SignatureChanged = fl&funcReorderedParams != 0, fl&funcSignatureChanged != 0
		f.UncertainParamLoc = fl&funcUncertainParamLoc != 0
	}
	nvar, err := r.count("var", 7)
	if err != nil {
		return nil, err
	}
	s.Vars = make([]Var, nvar)
	for i := range s.Vars {
		v := &s.Vars[i]
		var fl uint64
		if v.Name, err = r.sref(); err == nil {
			if v.Type, err = r.typeRef(ntypes); err == nil {
				if v.CU, err = cuRef(); err == nil {
					if fl, err = r.uvarint(); err == nil {
						if v.Addr, err = r.uvarint(); err == nil {
							if v.Section, err = r.sref(); err == nil {
								v.DeclTags, err = r.tags()
							}
						}
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("var %d: %w", i, err)
		}
		v.External, v.Declaration, v.HasAddr = fl&varExternal != 0, fl&varDeclaration != 0, fl&varHasAddr != 0
		v.Specification, v.TopLevel, v.Artificial = fl&varSpecification != 0, fl&varTopLevel != 0, fl&varArtificial != 0
	}
	return s, nil
}

func (r *reader) tags() ([]DeclTag, error) {
	n, err := r.count("decl tag", 2)
	if err != nil || n == 0 {
		return nil, err
	}
	tags := make([]DeclTag, n)
	for i := range tags {
		if tags[i].Value, err = r.sref(); err != nil {
			return nil, err
		}
		c, err := r.uvarint()
		if err != nil {
			return nil, err
		}
		if c > math.MaxInt32 {
			return nil, fmt.Errorf("decl tag component %d out of range", int64(c)-1)
		}
		tags[i].Component = int32(c) - 1
	}
	return tags, nil
}

func (r *reader) typ(t *btf.Type, ntypes int) error {
	if r.off >= len(r.data) {
		return errShort
	}
	t.Kind = btf.Kind(r.data[r.off])
	if t.Kind == btf.KindUnknown || t.Kind >= btf.NumKinds {
		return fmt.Errorf("unknown kind %d", t.Kind)
	}
	r.off++
	present, err := r.uvarint()
	if err != nil {
		return err
	}
	if present >= fieldMembers<<1 {
		return fmt.Errorf("unknown field bits %#x", present)
	}
	t.KindFlag = present&fieldKindFlag != 0
	if present&fieldName != 0 {
		if t.Name, err = r.sref(); err != nil {
			return err
		}
	}
	u8 := func(dst *uint8, bit uint64, what string) {
		if err != nil || present&bit == 0 {
			return
		}
		var v uint64
		if v, err = r.uvarint(); err == nil && v > math.MaxUint8 {
			err = fmt.Errorf("%s %d out of range", what, v)
		}
		*dst = uint8(v)
	}
	u32 := func(dst *uint32, bit uint64, what string) {
		if err == nil && present&bit != 0 {
			*dst, err = r.u32(what)
		}
	}
	ref := func(dst *btf.TypeID, bit uint64) {
		if err == nil && present&bit != 0 {
			*dst, err = r.typeRef(ntypes)
		}
	}
	u8(&t.IntEncoding, fieldIntEncoding, "int encoding")
	u8(&t.IntOffset, fieldIntOffset, "int offset")
	u8(&t.IntBits, fieldIntBits, "int bits")
	u32(&t.Size, fieldSize, "size")
	ref(&t.Type, fieldType)
	ref(&t.IndexType, fieldIndexType)
	u32(&t.Nelems, fieldNelems, "nelems")
	u32(&t.Linkage, fieldLinkage, "linkage")
	if err == nil && present&fieldComponentIdx != 0 {
		var v uint64
		if v, err = r.uvarint(); err == nil {
			c := unzigzag(v)
			if c < math.MinInt32 || c > math.MaxInt32 {
				err = fmt.Errorf("component index %d out of range", c)
			}
			t.ComponentIdx = int32(c)
		}
	}
	if err != nil || present&fieldMembers == 0 {
		return err
	}
	n, err := r.count("member", 1)
	if err != nil {
		return err
	}
	if n == 0 {
		t.Members = []btf.Member{}
		return nil
	}
	t.Members = r.members(n)
	for i := range t.Members {
		m := &t.Members[i]
		mp, err := r.uvarint()
		if err != nil {
			return err
		}
		if mp >= memberValue<<1 {
			return fmt.Errorf("member %d: unknown field bits %#x", i, mp)
		}
		if enum := t.Kind.IsEnum(); enum && mp&(memberOffset|memberSize) != 0 || !enum && mp&memberValue != 0 {
			return fmt.Errorf("member %d of a %s: field bits %#x: an enumerator has a value only, other members none", i, t.Kind, mp)
		}
		if mp&memberName != 0 {
			if m.Name, err = r.sref(); err != nil {
				return err
			}
		}
		if mp&memberType != 0 {
			if m.Type, err = r.typeRef(ntypes); err != nil {
				return err
			}
		}
		if mp&memberOffset != 0 {
			if m.Offset, err = r.u32("member offset"); err != nil {
				return err
			}
		}
		if mp&memberSize != 0 {
			if m.Size, err = r.u32("member size"); err != nil {
				return err
			}
		}
		if mp&memberValue != 0 {
			v, err := r.uvarint()
			if err != nil {
				return err
			}
			m.SetValue(v)
		}
	}
	return nil
}

// ReadFile reads and decodes the shard at path.
func ReadFile(path string) (*Shard, error) {
	var s *Shard
	err := mapfile.With(path, func(data []byte) (err error) {
		s, err = Unmarshal(data, path) // it copies what it keeps
		return err
	})
	return s, err
}
