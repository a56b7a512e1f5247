package shard

// The shard file format, version 3.
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
//	types   = count:uvarint strslen:uvarint strs reclen:uvarint recs  // IDs 1..count
//	funcs   = count:uvarint { name:sref proto:uvarint cu:uvarint flags:uvarint lowpc:uvarint tags }
//	vars    = count:uvarint { name:sref type:uvarint cu:uvarint flags:uvarint addr:uvarint section:sref tags }
//	tags    = count:uvarint { value:sref component+1:uvarint }
//
// shardflags, the funcs' and the vars' flags are bit sets (the shard*, func* and var*
// constants below, in field order of Shard, Func and Var).
//
// A "sref" is a uvarint index into the string table; "str" is len:uvarint bytes.
// Strings are numbered in order of first use while writing, so equal shards give
// equal bytes. The CRC (Castagnoli) covers everything before it.
//
// The types are the shard's btf.Table as it is in memory: strs, its own string
// section, and recs, the kernel's wire records (little-endian), so that a merge
// reads them with one validating pass and uses them where they are, instead of
// decoding millions of types (see btf.Table).
//
// Readers reject any other magic or version, counts larger than the remaining bytes
// could hold, type records that raw BTF would reject, type references past the last
// type, and string references past the table, each with the byte offset where the
// problem is.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/internal/hugepage"
)

const (
	magic   = "RBTFSHRD"
	version = 3
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

// marshalParts encodes s in the shard format, in pieces to be written in order
// (without the CRC).
func marshalParts(s *Shard) ([][]byte, error) {
	if s.Types == nil {
		return nil, fmt.Errorf("shard %s: no types", s.Source)
	}
	w := &writer{index: map[string]uint64{"": 0}, strs: []string{""}}
	// Body first, so the string table (built while writing the body) can precede
	// it: the parts around the type table in buffers of their own, the table's
	// sections (most of the file) as they are.
	var before, after bytes.Buffer
	w.buf = &before
	w.uvarint(uint64(len(s.CUs)))
	for _, cu := range s.CUs {
		w.sref(cu.Name)
		w.uvarint(cu.Offset)
		w.uvarint(uint64(cu.TypesEnd))
	}
	strs, recs := s.Types.Sections()
	if recs == nil && s.Types.Len() > 0 {
		return nil, fmt.Errorf("shard %s: the type table has linked records", s.Source)
	}
	w.uvarint(uint64(s.Types.Len()))
	w.uvarint(uint64(len(strs)))
	var mid bytes.Buffer // between the string section and the records
	w.buf = &mid
	w.uvarint(uint64(len(recs)))
	w.buf = &after
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

	var head bytes.Buffer
	w.buf = &head
	head.WriteString(magic)
	w.uvarint(version)
	w.str(s.Source)
	w.uvarint(flags(s.Linked))
	w.uvarint(uint64(len(w.strs)))
	for _, str := range w.strs {
		w.str(str)
	}
	return [][]byte{head.Bytes(), before.Bytes(), strs, mid.Bytes(), recs, after.Bytes()}, nil
}

// Marshal encodes s in the shard format.
func Marshal(s *Shard) ([]byte, error) {
	var out bytes.Buffer
	if err := Write(&out, s); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Write writes s in the shard format to w: the same bytes as Marshal, without
// assembling them in memory first (the type table, most of a shard, is written
// from where it is).
func Write(w io.Writer, s *Shard) error {
	parts, err := marshalParts(s)
	if err != nil {
		return err
	}
	var crc uint32
	for _, p := range parts {
		crc = crc32.Update(crc, crcTable, p)
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, crc))
	return err
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

// Unmarshal decodes a shard. name is used in error messages (the file path). The
// shard's type table keeps parts of data (a merge reads millions of types: they
// are not copied), so the caller must not modify data afterwards.
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
	s := &Shard{}
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
	ntypes, err := r.count("type", 12)
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
	if s.Types, err = r.table(ntypes); err != nil {
		return nil, err
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

// table reads the types: a string section and the records of ntypes types, which
// btf.ParseTable validates. The table aliases r.data.
func (r *reader) table(ntypes int) (*btf.Table, error) {
	n, err := r.count("type string section length", 1)
	if err != nil {
		return nil, err
	}
	strStart := r.off
	strs := r.data[r.off : r.off+n]
	r.off += n
	if n, err = r.count("type record length", 1); err != nil {
		return nil, err
	}
	recStart := r.off
	recs := r.data[r.off : r.off+n]
	t, err := btf.ParseTable(strs, recs)
	if err != nil {
		var de *btf.DecodeError
		if errors.As(err, &de) {
			// Locate the record in the file; the string section is checked as a
			// whole (ID 0: the error is at its start).
			if de.ID == 0 {
				r.off = strStart
				return nil, fmt.Errorf("type strings: %v", de.Err)
			}
			r.off = recStart + de.Offset
			return nil, fmt.Errorf("type %d: %v", de.ID, de.Err)
		}
		return nil, err
	}
	r.off += n
	if t.Len() != ntypes {
		return nil, fmt.Errorf("%d type records, the header says %d", t.Len(), ntypes)
	}
	return t, nil
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

// ReadFile reads and decodes the shard at path. The file is read, not mapped:
// the shard's type table is the file's bytes (see Unmarshal), which the merge
// rewrites in place, and writing to a private file mapping costs a copy-on-write
// fault per page, several times what reading costs.
func ReadFile(path string) (*Shard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > math.MaxInt32 {
		return nil, fmt.Errorf("shard %s: %w: %d bytes is too large", path, ErrFormat, st.Size())
	}
	// A shard is tens of megabytes: huge pages save most of the page faults.
	data := hugepage.MakeNoZero[byte](int(st.Size()), int(st.Size()))
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("shard %s: %w", path, err)
	}
	return Unmarshal(data, path)
}
