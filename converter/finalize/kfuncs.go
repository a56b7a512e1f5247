package finalize

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/shard"
)

// Kernel functions callable from BPF programs (kfuncs), as pahole 1.32's
// btf_encoder__collect_kfuncs finds them (feature decl_tag_kfuncs).
//
// The kernel declares its kfuncs in sets (include/linux/btf_ids.h):
//
//	BTF_KFUNCS_START(my_set)      // a BTF_SET8 with flags BTF_SET8_KFUNCS
//	BTF_ID_FLAGS(func, bpf_foo, KF_ACQUIRE)
//	BTF_KFUNCS_END(my_set)
//
// which become, in the .BTF_ids section, a struct btf_id_set8 { u32 cnt; u32
// flags; struct { u32 id; u32 flags; } pairs[]; } described by a symbol
// "__BTF_ID__set8__my_set" covering the whole set, and one symbol
// "__BTF_ID__func__bpf_foo__<n>" per pair. pahole:
//
//  1. collects the ranges [value, value+size) of the "__BTF_ID__set8__"
//     symbols of .BTF_ids whose set has flag BTF_SET8_KFUNCS (1) set (the
//     flags word is at value+4);
//  2. for each "__BTF_ID__func__<name>__<suffix>" symbol of .BTF_ids inside one
//     of these ranges (the first that contains it), takes the pair at its
//     value: the function <name> (the text between the prefix and the last
//     "__") is a kfunc with the pair's flags (value+4);
//  3. emits, after the FUNC of a kfunc (and after its own DECL_TAGs), a
//     DECL_TAG "bpf_kfunc" (component -1), and a DECL_TAG "bpf_fastcall" if the
//     flags have KF_FASTCALL. Not with --skip_encoding_btf_decl_tag.
//
// A function name is looked up like any function's (in 1.32, the name before
// a '.' suffix). Symbol values are made section-relative with the section's
// address (0 in ET_REL files). A pair that lies outside the section is an
// error, as in pahole. Kernels before 6.9 have no BTF_SET8_KFUNCS flag and get
// no tags.

const (
	btfIDSet8Prefix = "__BTF_ID__set8__"
	btfIDFuncPrefix = "__BTF_ID__func__"
	set8Kfuncs      = 1 << 0  // BTF_SET8_KFUNCS
	kfFastcall      = 1 << 12 // KF_FASTCALL
	kfArenaRet      = 1 << 13 // KF_ARENA_RET
	kfArenaArg1     = 1 << 14 // KF_ARENA_ARG1
	kfArenaArg2     = 1 << 15 // KF_ARENA_ARG2
	kfArena         = kfArenaRet | kfArenaArg1 | kfArenaArg2
	arenaAttr       = "address_space(1)" // pahole's BPF_ARENA_ATTR
	kfuncTag        = "bpf_kfunc"
	fastcallTag     = "bpf_fastcall"
)

// collectKfuncs returns the kfuncs of img and their flags, by function name.
func collectKfuncs(img *Image) (map[string]uint32, error) {
	if img == nil || !img.HasSymtab || img.BTFIDsSection <= 0 || img.BTFIDsSection >= len(img.Sections) {
		return nil, nil
	}
	bo := img.ByteOrder
	if bo == nil {
		bo = binary.LittleEndian
	}
	data := img.BTFIDs
	base := img.Sections[img.BTFIDsSection].Addr
	word := func(value uint64, at uint64) (uint32, bool) {
		if value < base {
			return 0, false
		}
		off := value - base + at
		if off+4 > uint64(len(data)) || off+4 < off {
			return 0, false
		}
		return bo.Uint32(data[off:]), true
	}
	type span struct{ start, end uint64 }
	var sets []span
	for i := range img.Symbols {
		s := &img.Symbols[i]
		if int(s.Section) != img.BTFIDsSection || !strings.HasPrefix(s.Name, btfIDSet8Prefix) {
			continue
		}
		// pahole reads the flags word without checking it fits; a set whose
		// header is outside the section is no kfunc set here.
		if fl, ok := word(s.Value, 4); ok && fl&set8Kfuncs != 0 {
			sets = append(sets, span{s.Value, s.Value + s.Size})
		}
	}
	if len(sets) == 0 {
		return nil, nil
	}
	kfuncs := make(map[string]uint32)
	for i := range img.Symbols {
		s := &img.Symbols[i]
		if int(s.Section) != img.BTFIDsSection {
			continue
		}
		name, ok := btfIDFuncName(s.Name)
		if !ok {
			continue
		}
		for _, r := range sets {
			if s.Value < r.start || s.Value >= r.end {
				continue
			}
			fl, ok := word(s.Value, 4)
			if !ok {
				return nil, fmt.Errorf("%s: kfunc %q: symbol %s at %#x: its ID and flags are outside section %s",
					img.Path, name, s.Name, s.Value, btfIDsSection)
			}
			kfuncs[name] = fl
			break
		}
	}
	return kfuncs, nil
}

// btfIDFuncName is pahole's get_func_name: "__BTF_ID__func__vfs_close__1" is
// vfs_close; the rest after the prefix must contain "__" and the last '_' must
// follow another.
func btfIDFuncName(sym string) (string, bool) {
	rest, ok := strings.CutPrefix(sym, btfIDFuncPrefix)
	if !ok || !strings.Contains(rest, "__") {
		return "", false
	}
	end := strings.LastIndexByte(rest, '_')
	if end < 1 || rest[end-1] != '_' {
		return "", false
	}
	return rest[:end-1], true
}

// kfuncTags are the DECL_TAGs pahole adds to the FUNC of function name, if it
// is a kfunc and tagging is on.
func (c *combiner) kfuncTags(name string) []shard.DeclTag {
	fl, ok := c.kfuncs[name]
	if !ok || c.opts.SkipDeclTags {
		return nil
	}
	tags := []shard.DeclTag{{Value: kfuncTag, Component: -1}}
	if fl&kfFastcall != 0 {
		tags = append(tags, shard.DeclTag{Value: fastcallTag, Component: -1})
	}
	return tags
}

// arenaFlags are the KF_ARENA_* flags of function name if pahole's feature
// attributes applies to it (a kfunc, tagged, with Options.ArenaAttributes).
func (c *combiner) arenaFlags(name string) uint32 {
	if !c.opts.ArenaAttributes || c.kfuncs == nil {
		return 0
	}
	return c.kfuncs[name] & kfArena
}

// arenaProto returns the FUNC_PROTO of kfunc f, in the result's IDs, with the
// pointers its KF_ARENA_* flags name marked as arena pointers, as pahole 1.32's
// btf__add_bpf_arena_type_tags does (feature attributes): for the return value
// (KF_ARENA_RET), the first and the second parameter (KF_ARENA_ARG1, _ARG2), in that
// order, it stages a TYPE_TAG "address_space(1)" with kind_flag set (an attribute)
// on the pointer's target, and a PTR to that, which the prototype then refers to.
// A flagged return value or parameter that is not a pointer, or is missing, is an
// error, as in pahole.
func (c *combiner) arenaProto(sc *shardCtx, f *shard.Func, stage func(btf.Type) btf.TypeID) (*btf.Type, error) {
	proto := sc.s.Types.Type(f.Proto)
	if proto == nil || proto.Kind != btf.KindFuncProto {
		return nil, fmt.Errorf("%s: %w: FUNC_PROTO %d of %q", sc.s.Source, ErrInput, f.Proto, f.Name)
	}
	remap := func(id btf.TypeID) (btf.TypeID, error) {
		if int(id) >= len(sc.remap) {
			return 0, fmt.Errorf("%s: %w: FUNC_PROTO %d of %q refers to type %d", sc.s.Source, ErrInput, f.Proto, f.Name, id)
		}
		return sc.remap[id], nil
	}
	// The flagged pointers are read in the shard (the result has none of its
	// types yet: tail FUNCs are staged first).
	arena := func(ref *btf.TypeID, what string) error {
		ptr := sc.s.Types.Type(*ref)
		if ptr == nil || ptr.Kind != btf.KindPtr {
			return fmt.Errorf("%s: kfunc %q: feature attributes: its %s (type %d of %s) is flagged KF_ARENA_* but is not a pointer", c.img.Path, f.Name, what, *ref, sc.s.Source)
		}
		target, err := remap(ptr.Type)
		if err != nil {
			return err
		}
		tag := stage(btf.Type{Name: arenaAttr, Kind: btf.KindTypeTag, KindFlag: true, Type: target})
		*ref = stage(btf.Type{Kind: btf.KindPtr, Type: tag})
		return nil
	}
	fl := c.arenaFlags(f.Name)
	ret, params := proto.Type, proto.Members
	var err error
	if proto.Type, err = remap(ret); err != nil {
		return nil, err
	}
	proto.Members = slices.Clone(params)
	for i := range proto.Members {
		if proto.Members[i].Type, err = remap(params[i].Type); err != nil {
			return nil, err
		}
	}
	if fl&kfArenaRet != 0 {
		proto.Type = ret
		if err := arena(&proto.Type, "return value"); err != nil {
			return nil, err
		}
	}
	for i, bit := range []uint32{kfArenaArg1, kfArenaArg2} {
		if fl&bit == 0 {
			continue
		}
		if i >= len(proto.Members) {
			return nil, fmt.Errorf("%s: kfunc %q: feature attributes: KF_ARENA_ARG%d, but it has %d parameters", c.img.Path, f.Name, i+1, len(proto.Members))
		}
		proto.Members[i].Type = params[i].Type
		if err := arena(&proto.Members[i].Type, fmt.Sprintf("parameter %d", i+1)); err != nil {
			return nil, err
		}
	}
	return proto, nil
}
