package encode

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	ebtf "github.com/cilium/ebpf/btf"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/dwarf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/shard"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixtures = []string{
	"types.dwarf5.o", "types.dwarf4.o", "types.zlib.o", "types.exec", "types.nocomplex.o",
	"annot.clang5.o", "annot.clang4.o", "annot.gcc16.o",
}

// dump renders a shard as text, one type per line, bpftool style.
func dump(sh *shard.Shard) string {
	var b strings.Builder
	fmt.Fprintf(&b, "linked=%v\n", sh.Linked)
	for i, cu := range sh.CUs {
		fmt.Fprintf(&b, "CU %d %q at %#x types end %d\n", i, cu.Name, cu.Offset, cu.TypesEnd)
	}
	spec := sh.Types.Spec()
	for i := range spec.Types {
		t := &spec.Types[i]
		id := spec.FirstID + btf.TypeID(i)
		fmt.Fprintf(&b, "[%d] %s '%s'", id, t.Kind, t.Name)
		switch t.Kind {
		case btf.KindInt:
			fmt.Fprintf(&b, " size=%d bits=%d enc=%d", t.Size, t.IntBits, t.IntEncoding)
		case btf.KindFloat:
			fmt.Fprintf(&b, " size=%d", t.Size)
		case btf.KindArray:
			fmt.Fprintf(&b, " type=%d index=%d nelems=%d", t.Type, t.IndexType, t.Nelems)
		case btf.KindStruct, btf.KindUnion:
			fmt.Fprintf(&b, " size=%d kflag=%v", t.Size, t.KindFlag)
			for _, m := range t.Members {
				fmt.Fprintf(&b, "\n\t'%s' type=%d off=%d bits=%d", m.Name, m.Type, m.Offset, m.Size)
			}
		case btf.KindEnum, btf.KindEnum64:
			fmt.Fprintf(&b, " size=%d signed=%v", t.Size, t.KindFlag)
			for _, m := range t.Members {
				fmt.Fprintf(&b, "\n\t'%s' val=%d", m.Name, int64(m.Value()))
			}
		case btf.KindFwd:
			fmt.Fprintf(&b, " union=%v", t.KindFlag)
		case btf.KindFuncProto:
			fmt.Fprintf(&b, " ret=%d", t.Type)
			for _, m := range t.Members {
				fmt.Fprintf(&b, "\n\t'%s' type=%d", m.Name, m.Type)
			}
		case btf.KindDeclTag:
			fmt.Fprintf(&b, " type=%d component=%d", t.Type, t.ComponentIdx)
		default:
			fmt.Fprintf(&b, " type=%d", t.Type)
		}
		b.WriteByte('\n')
	}
	for _, f := range sh.Funcs {
		fmt.Fprintf(&b, "FUNC %s proto=%d cu=%d ext=%v decl=%v inline=%v lowpc=%v/%#x named=%v optimized=%v unexpected_reg=%v reordered=%v sigchanged=%v\n",
			f.Name, f.Proto, f.CU, f.External, f.Declaration, f.Inline, f.HasLowPC, f.LowPC, f.AllParamsNamed, f.OptimizedParams,
			f.UnexpectedReg, f.ReorderedParams, f.SignatureChanged)
		dumpTags(&b, f.DeclTags)
	}
	for _, v := range sh.Vars {
		fmt.Fprintf(&b, "VAR %s type=%d cu=%d ext=%v decl=%v spec=%v top=%v artificial=%v addr=%v/%#x section=%q\n",
			v.Name, v.Type, v.CU, v.External, v.Declaration, v.Specification, v.TopLevel, v.Artificial, v.HasAddr, v.Addr, v.Section)
		dumpTags(&b, v.DeclTags)
	}
	return b.String()
}

func dumpTags(b *strings.Builder, tags []shard.DeclTag) {
	for _, t := range tags {
		fmt.Fprintf(b, "\tdecl_tag '%s' component=%d\n", t.Value, t.Component)
	}
}

func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			sh, err := EncodeFile(filepath.Join("testdata", name), DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			got := dump(sh)
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("shard differs from %s (run go test -update and review the diff)", golden)
			}
		})
	}
}

// TestFixtureFacts checks facts about the fixture that the golden file would
// only show: each is what pahole does.
func TestFixtureFacts(t *testing.T) {
	for _, name := range []string{"types.dwarf5.o", "types.dwarf4.o"} {
		sh, err := EncodeFile(filepath.Join("testdata", name), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		spec := sh.Types.Spec()
		find := func(kind btf.Kind, n string) *btf.Type {
			for i := range spec.Types {
				if tt := &spec.Types[i]; tt.Kind == kind && tt.Name == n {
					return tt
				}
			}
			t.Fatalf("%s: no %v %q", name, kind, n)
			return nil
		}
		bits := find(btf.KindStruct, "bits")
		want := []struct {
			name      string
			off, size uint32
		}{{"a", 0, 3}, {"b", 3, 5}, {"c", 8, 7}, {"d", 15, 40}, {"e", 56, 0}, {"f", 64, 1}, {"g", 65, 4}, {"h", 69, 9}}
		if !bits.KindFlag || len(bits.Members) != len(want) {
			t.Fatalf("%s: struct bits: %+v", name, bits)
		}
		for i, w := range want {
			m := bits.Members[i]
			if m.Name != w.name || m.Offset != w.off || m.Size != w.size {
				t.Errorf("%s: bits.%s: off %d size %d, want %d %d", name, m.Name, m.Offset, m.Size, w.off, w.size)
			}
		}
		if e := find(btf.KindEnum, "small"); !e.KindFlag || int64(e.Members[0].Value()) != -2 {
			t.Errorf("%s: enum small: %+v", name, e)
		}
		if e := find(btf.KindEnum64, "big"); e.KindFlag || e.Members[1].Value() != 0x123456789abcdef {
			t.Errorf("%s: enum big: %+v", name, e)
		}
		if e := find(btf.KindEnum64, "bigneg"); int64(e.Members[0].Value()) != -1<<63 {
			t.Errorf("%s: enum bigneg: %+v", name, e)
		}
		if f := find(btf.KindFwd, "declared_union"); !f.KindFlag {
			t.Errorf("%s: union declaration not a union FWD", name)
		}
		find(btf.KindStruct, "in_function")
		var sum *shard.Func
		for i := range sh.Funcs {
			if sh.Funcs[i].Name == "sum_ints" {
				sum = &sh.Funcs[i]
			}
		}
		if sum == nil || !sum.External || !sum.HasLowPC {
			t.Fatalf("%s: sum_ints: %+v", name, sum)
		}
		p := sh.Types.Type(sum.Proto)
		if len(p.Members) != 2 || p.Members[0].Name != "n" || p.Members[1] != (btf.Member{}) {
			t.Errorf("%s: sum_ints proto %+v", name, p)
		}
		var percpu *shard.Var
		for i := range sh.Vars {
			if sh.Vars[i].Name == "percpu_counter" {
				percpu = &sh.Vars[i]
			}
		}
		if percpu == nil || !percpu.HasAddr || percpu.Section != ".data..percpu" {
			t.Errorf("%s: percpu_counter: %+v", name, percpu)
		}
	}
}

func TestOptions(t *testing.T) {
	path := filepath.Join("testdata", "types.dwarf5.o")
	sh, err := EncodeFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range sh.Types.Spec().Types {
		switch tt.Kind {
		case btf.KindFloat, btf.KindEnum64:
			t.Errorf("feature off, but %v %q emitted", tt.Kind, tt.Name)
		case btf.KindEnum:
			if tt.KindFlag {
				t.Errorf("enum64 off: enum %q must be unsigned (pahole passes (uint32_t)value)", tt.Name)
			}
		}
	}
	if _, err := EncodeFile(path, Options{LangExclude: []string{"nope"}}); err == nil {
		t.Error("unknown language accepted")
	}
	sh, err = EncodeFile(path, Options{LangExclude: []string{"c11"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.CUs) != 0 || sh.Types.Len() != 0 {
		t.Errorf("excluded C11 unit still encoded: %d CUs", len(sh.CUs))
	}
}

// TestRanges checks that shards of ranges concatenate to the whole.
func TestRanges(t *testing.T) {
	mods, _ := filepath.Glob("/var/cache/rules_btf/kernel/modules/fs/*/*.ko")
	path := filepath.Join("testdata", "types.dwarf5.o")
	if len(mods) > 0 {
		path = mods[0]
	}
	f, err := elfobj.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	whole, err := Encode(f, Range{}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 7} {
		rs, err := Ranges(f, n)
		if err != nil {
			t.Fatal(err)
		}
		var types int
		var cus []shard.CU
		var bytes uint64
		for _, r := range rs {
			bytes += r.Bytes
			sh, err := Encode(f, r, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			types += sh.Types.Len()
			cus = append(cus, sh.CUs...)
		}
		if types != whole.Types.Len() || len(cus) != len(whole.CUs) {
			t.Errorf("%d ranges: %d types in %d CUs, whole file %d in %d", n, types, len(cus), whole.Types.Len(), len(whole.CUs))
		}
		if info := f.Section(".debug_info"); bytes != info.Size {
			t.Errorf("%d ranges of %d bytes in all, .debug_info has %d", n, bytes, info.Size)
		}
	}
}

func TestBadInput(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "types.dwarf5.o"))
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	info := ef.Section(".debug_info")
	// Corrupt .debug_info byte by byte: errors, never panics.
	errs := 0
	for i := uint64(0); i < info.Size; i++ {
		d := append([]byte(nil), data...)
		d[info.Offset+i] ^= 0xff
		f, err := elfobj.NewFile("corrupt.o", d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Encode(f, Range{}, DefaultOptions()); err != nil {
			errs++
			if !strings.Contains(err.Error(), "corrupt.o") {
				t.Fatalf("error without the file name: %v", err)
			}
		}
	}
	if errs == 0 {
		t.Error("no corruption detected")
	}
	if _, err := elfobj.NewFile("empty.o", data[:100]); err == nil {
		t.Error("truncated ELF accepted")
	}
}

// canon is a name-based canonical form of a type, identical for our types and
// pahole's (read by cilium/ebpf): named composites are referred to by name,
// anonymous ones spelled out.
func canonOurs(s *btf.Spec, id btf.TypeID, top bool) string {
	if id == 0 {
		return "void"
	}
	t := s.Type(id)
	ref := func(x btf.TypeID) string { return canonOurs(s, x, false) }
	switch t.Kind {
	case btf.KindInt:
		return fmt.Sprintf("int %s %d %d", t.Name, t.Size, t.IntEncoding)
	case btf.KindFloat:
		return fmt.Sprintf("float %s %d", t.Name, t.Size)
	case btf.KindPtr:
		return "*" + ref(t.Type)
	case btf.KindConst:
		return "const " + ref(t.Type)
	case btf.KindVolatile:
		return "volatile " + ref(t.Type)
	case btf.KindRestrict:
		return "restrict " + ref(t.Type)
	case btf.KindTypeTag:
		return "tag(" + t.Name + ") " + ref(t.Type)
	case btf.KindTypedef:
		if !top {
			return "typedef " + t.Name
		}
		return "typedef " + t.Name + " = " + ref(t.Type)
	case btf.KindArray:
		return fmt.Sprintf("[%d]%s idx %s", t.Nelems, ref(t.Type), ref(t.IndexType))
	case btf.KindFwd:
		// Referred to like its definition: dedup (pahole's libbpf) resolves FWDs
		// into definitions across CUs.
		if t.KindFlag {
			return "union " + t.Name
		}
		return "struct " + t.Name
	case btf.KindStruct, btf.KindUnion, btf.KindEnum, btf.KindEnum64:
		kw := map[btf.Kind]string{btf.KindStruct: "struct", btf.KindUnion: "union", btf.KindEnum: "enum", btf.KindEnum64: "enum"}[t.Kind]
		if t.Name != "" && !top {
			return kw + " " + t.Name
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %d {", kw, t.Name, t.Size)
		for _, m := range t.Members {
			if t.Kind.IsComposite() {
				fmt.Fprintf(&b, "%s %s @%d:%d; ", m.Name, ref(m.Type), m.Offset, m.Size)
			} else {
				v := m.Value()
				if t.Size <= 4 {
					v = uint64(uint32(v))
				}
				fmt.Fprintf(&b, "%s=%d; ", m.Name, v)
			}
		}
		return b.String() + "}"
	case btf.KindFuncProto:
		var b strings.Builder
		fmt.Fprintf(&b, "fn(")
		for _, m := range t.Members {
			fmt.Fprintf(&b, "%s %s, ", m.Name, ref(m.Type))
		}
		return b.String() + ") " + ref(t.Type)
	}
	return t.Kind.String() + " " + t.Name
}

func canonTheirs(t ebtf.Type, top bool) string {
	ref := func(x ebtf.Type) string { return canonTheirs(x, false) }
	switch t := t.(type) {
	case *ebtf.Void:
		return "void"
	case *ebtf.Int:
		enc := uint8(0)
		switch t.Encoding {
		case ebtf.Signed:
			enc = btf.IntSigned
		case ebtf.Bool:
			enc = btf.IntBool
		case ebtf.Char:
			enc = btf.IntChar
		}
		return fmt.Sprintf("int %s %d %d", t.Name, t.Size, enc)
	case *ebtf.Float:
		return fmt.Sprintf("float %s %d", t.Name, t.Size)
	case *ebtf.Pointer:
		return "*" + ref(t.Target)
	case *ebtf.Const:
		return "const " + ref(t.Type)
	case *ebtf.Volatile:
		return "volatile " + ref(t.Type)
	case *ebtf.Restrict:
		return "restrict " + ref(t.Type)
	case *ebtf.TypeTag:
		return "tag(" + t.Value + ") " + ref(t.Type)
	case *ebtf.Typedef:
		if !top {
			return "typedef " + t.Name
		}
		return "typedef " + t.Name + " = " + ref(t.Type)
	case *ebtf.Array:
		return fmt.Sprintf("[%d]%s idx %s", t.Nelems, ref(t.Type), ref(t.Index))
	case *ebtf.Fwd:
		if t.Kind == ebtf.FwdUnion {
			return "union " + t.Name
		}
		return "struct " + t.Name
	case *ebtf.Struct, *ebtf.Union:
		kw, name, size, members := "struct", "", uint32(0), []ebtf.Member(nil)
		if s, ok := t.(*ebtf.Struct); ok {
			name, size, members = s.Name, s.Size, s.Members
		} else {
			u := t.(*ebtf.Union)
			kw, name, size, members = "union", u.Name, u.Size, u.Members
		}
		if name != "" && !top {
			return kw + " " + name
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %d {", kw, name, size)
		for _, m := range members {
			fmt.Fprintf(&b, "%s %s @%d:%d; ", m.Name, ref(m.Type), m.Offset, m.BitfieldSize)
		}
		return b.String() + "}"
	case *ebtf.Enum:
		if t.Name != "" && !top {
			return "enum " + t.Name
		}
		var b strings.Builder
		fmt.Fprintf(&b, "enum %s %d {", t.Name, t.Size)
		for _, v := range t.Values {
			x := v.Value
			if t.Size <= 4 {
				x = uint64(uint32(x))
			}
			fmt.Fprintf(&b, "%s=%d; ", v.Name, x)
		}
		return b.String() + "}"
	case *ebtf.FuncProto:
		var b strings.Builder
		fmt.Fprintf(&b, "fn(")
		for _, p := range t.Params {
			fmt.Fprintf(&b, "%s %s, ", p.Name, ref(p.Type))
		}
		return b.String() + ") " + ref(t.Return)
	}
	return fmt.Sprintf("%T", t)
}

// comparePahole encodes path with the installed pahole (1.24 on a Debian 12 host,
// 1.32 in Bazel's sid chroot) and with Encode in that version's mode, and checks
// that both give the same set of types (functions, variables and data sections
// aside: those are decided by the finalize stage).
func comparePahole(t *testing.T, path string) {
	pahole, err := exec.LookPath("pahole")
	if err != nil {
		t.Skip("pahole not installed")
	}
	compat := Compat132
	if v, err := exec.Command(pahole, "--version").Output(); err != nil {
		t.Fatalf("pahole --version: %v", err)
	} else if strings.TrimSpace(string(v)) < "v1.25" {
		compat = Compat124
	}
	out := filepath.Join(t.TempDir(), "out.btf")
	cmd := exec.Command(pahole, "-J", "--btf_gen_floats", "--btf_encode_detached="+out, path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pahole: %v\n%s", err, b)
	}
	spec, err := ebtf.LoadSpec(out)
	if err != nil {
		t.Fatal(err)
	}
	funcProtos := map[ebtf.Type]bool{}
	for typ, err := range spec.All() {
		if fn, ok := typ.(*ebtf.Func); ok && err == nil {
			funcProtos[fn.Type] = true
		}
	}
	theirs := map[string]bool{}
	for typ, err := range spec.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch typ := typ.(type) {
		case *ebtf.Func, *ebtf.Var, *ebtf.Datasec, *ebtf.Void, *ebtf.Fwd:
			continue
		case *ebtf.FuncProto:
			if funcProtos[typ] {
				continue // a FUNC's prototype: the finalize stage's business
			}
		}
		c := canonTheirs(typ, true)
		if strings.HasPrefix(c, "*btf.declTag") {
			continue // attached to FUNCs and VARs too: not compared
		}
		theirs[c] = true
	}
	sh, err := EncodeFile(path, Options{Features: FeatureFloat | FeatureEnum64 | FeatureDeclTag | FeatureTypeTag, Compat: compat})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	protos := map[btf.TypeID]bool{}
	for _, f := range sh.Funcs {
		protos[f.Proto] = true
	}
	table := sh.Types.Spec()
	for i := range table.Types {
		id := table.FirstID + btf.TypeID(i)
		if k := table.Types[i].Kind; protos[id] || k == btf.KindDeclTag || k == btf.KindFwd {
			continue
		}
		ours[canonOurs(table, id, true)] = true
	}
	var missing, extra []string
	for k := range theirs {
		if !ours[k] {
			missing = append(missing, k)
		}
	}
	for k := range ours {
		// A parameterless subroutine type equals a parameterless FUNC's prototype,
		// which libbpf dedup merged and which we left out of theirs.
		if !theirs[k] && !strings.HasPrefix(k, "fn() ") {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, m := range missing {
		t.Errorf("%s: pahole has, we lack: %s", filepath.Base(path), m)
	}
	for _, m := range extra {
		t.Errorf("%s: we have, pahole lacks: %s", filepath.Base(path), m)
	}
	t.Logf("%s: %d distinct types compared", filepath.Base(path), len(theirs))
}

func TestAgainstPahole(t *testing.T) {
	for _, name := range []string{"types.nocomplex.o"} {
		t.Run(name, func(t *testing.T) { comparePahole(t, filepath.Join("testdata", name)) })
	}
}

func TestAgainstPaholeModules(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	mods, _ := filepath.Glob("/var/cache/rules_btf/kernel/modules/fs/*/*.ko")
	if len(mods) == 0 {
		t.Skip("no kernel modules")
	}
	if len(mods) > 4 {
		mods = mods[:4]
	}
	for _, m := range mods {
		t.Run(filepath.Base(m), func(t *testing.T) { comparePahole(t, m) })
	}
}

var _ = errors.New

// annotations is where one object's BTF puts btf_decl_tag and btf_type_tag
// annotations, by name: the DECL_TAGs of types in order, every pointer spelled
// out with its TYPE_TAGs, and the DECL_TAGs of each FUNC and VAR in order.
type annotations struct {
	typeTags []string
	pointers []string
	funcs    map[string][]string
	vars     map[string][]string
}

func tagString(value string, component int32) string {
	return fmt.Sprintf("%s@%d", value, component)
}

func pointers(s *btf.Spec) []string {
	set := map[string]bool{}
	for i := range s.Types {
		if s.Types[i].Kind == btf.KindPtr {
			set[canonOurs(s, s.FirstID+btf.TypeID(i), false)] = true
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// paholeAnnotations reads pahole's BTF for an object.
func paholeAnnotations(t *testing.T, path string) annotations {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := btf.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := annotations{pointers: pointers(s), funcs: map[string][]string{}, vars: map[string][]string{}}
	for i := range s.Types {
		tt := &s.Types[i]
		switch tt.Kind {
		case btf.KindFunc:
			a.funcs[tt.Name] = a.funcs[tt.Name][:0:0]
		case btf.KindVar:
			a.vars[tt.Name] = a.vars[tt.Name][:0:0]
		case btf.KindDeclTag:
			target := s.Type(tt.Type)
			tag := tagString(tt.Name, tt.ComponentIdx)
			switch target.Kind {
			case btf.KindFunc:
				a.funcs[target.Name] = append(a.funcs[target.Name], tag)
			case btf.KindVar:
				a.vars[target.Name] = append(a.vars[target.Name], tag)
			default:
				a.typeTags = append(a.typeTags, canonOurs(s, tt.Type, false)+": "+tag)
			}
		}
	}
	return a
}

func tagStrings(tags []shard.DeclTag) []string {
	out := []string{}
	for _, d := range tags {
		out = append(out, tagString(d.Value, d.Component))
	}
	return out
}

// TestAnnotationsAgainstPahole compares the annotations of the annot.c objects
// with pahole's BTF for them (committed, see gen-annot.sh): the DECL_TAGs of
// structs, unions and typedefs in pahole's order, the TYPE_TAGs of pointers,
// and the DecTags of the function and variable candidates pahole makes FUNCs
// and VARs of. pahole picks one DIE per function: some candidate of that name
// must carry exactly its tags.
func TestAnnotationsAgainstPahole(t *testing.T) {
	for _, tc := range []struct {
		object, pahole string
		compat         Compat
	}{
		{"annot.clang5.o", "annot.clang5.pahole124.btf", Compat124},
		{"annot.clang5.o", "annot.clang5.pahole132.btf", Compat132},
		{"annot.clang4.o", "annot.clang4.pahole124.btf", Compat124},
		{"annot.clang4.o", "annot.clang4.pahole132.btf", Compat132},
		{"annot.gcc16.o", "annot.gcc16.pahole124.btf", Compat124},
		{"annot.gcc16.o", "annot.gcc16.pahole132.btf", Compat132},
	} {
		t.Run(tc.pahole, func(t *testing.T) {
			want := paholeAnnotations(t, filepath.Join("testdata", tc.pahole))
			opts := DefaultOptions()
			opts.Compat = tc.compat
			sh, err := EncodeFile(filepath.Join("testdata", tc.object), opts)
			if err != nil {
				t.Fatal(err)
			}
			var typeTags []string
			spec := sh.Types.Spec()
			for i := range spec.Types {
				if tt := &spec.Types[i]; tt.Kind == btf.KindDeclTag {
					typeTags = append(typeTags, canonOurs(spec, tt.Type, false)+": "+tagString(tt.Name, tt.ComponentIdx))
				}
			}
			if !slices.Equal(typeTags, want.typeTags) {
				t.Errorf("type DECL_TAGs:\n ours   %q\n pahole %q", typeTags, want.typeTags)
			}
			if got := pointers(spec); !slices.Equal(got, want.pointers) {
				t.Errorf("pointers:\n ours   %q\n pahole %q", got, want.pointers)
			}
			for name, tags := range want.funcs {
				var seen [][]string
				found := false
				for _, f := range sh.Funcs {
					if f.Name == name {
						seen = append(seen, tagStrings(f.DeclTags))
						found = found || slices.Equal(tagStrings(f.DeclTags), tags)
					}
				}
				if !found {
					t.Errorf("function %s: pahole's tags %q, our candidates' %q", name, tags, seen)
				}
			}
			for name, tags := range want.vars {
				n := 0
				for _, v := range sh.Vars {
					if v.Name == name && v.HasAddr {
						n++
						if got := tagStrings(v.DeclTags); !slices.Equal(got, tags) {
							t.Errorf("variable %s: tags %q, pahole %q", name, got, tags)
						}
					}
				}
				if n != 1 {
					t.Errorf("variable %s: %d candidates with an address", name, n)
				}
			}
			if len(want.funcs) < 4 || len(want.vars) < 4 {
				t.Fatalf("pahole's BTF has %d FUNCs and %d VARs: not the fixture's", len(want.funcs), len(want.vars))
			}
		})
	}
}

// TestAnnotationFeatures checks that FeatureDeclTag and FeatureTypeTag turn
// the annotations off, like pahole's --skip_encoding_btf_decl_tag and
// --skip_encoding_btf_type_tag, and that Compat124 ignores GCC's.
func TestAnnotationFeatures(t *testing.T) {
	count := func(sh *shard.Shard) (declTags, typeTags, candidateTags int) {
		for _, tt := range sh.Types.Spec().Types {
			switch tt.Kind {
			case btf.KindDeclTag:
				declTags++
			case btf.KindTypeTag:
				typeTags++
			}
		}
		for _, f := range sh.Funcs {
			candidateTags += len(f.DeclTags)
		}
		for _, v := range sh.Vars {
			candidateTags += len(v.DeclTags)
		}
		return
	}
	all := FeatureFloat | FeatureEnum64 | FeatureDeclTag | FeatureTypeTag
	for _, tc := range []struct {
		object   string
		opts     Options
		decl     bool // DECL_TAG types and candidate tags expected
		typeTags bool
	}{
		{"annot.clang5.o", Options{Features: all}, true, true},
		{"annot.clang5.o", Options{Features: all &^ FeatureDeclTag}, false, true},
		{"annot.clang5.o", Options{Features: all &^ FeatureTypeTag}, true, false},
		{"annot.gcc16.o", Options{Features: all}, true, true},
		{"annot.gcc16.o", Options{Features: all &^ FeatureDeclTag}, false, true},
		{"annot.gcc16.o", Options{Features: all &^ FeatureTypeTag}, true, false},
		{"annot.gcc16.o", Options{Features: all, Compat: Compat124}, false, false},
	} {
		sh, err := EncodeFile(filepath.Join("testdata", tc.object), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		d, ty, c := count(sh)
		if (d > 0) != tc.decl || (c > 0) != tc.decl || (ty > 0) != tc.typeTags {
			t.Errorf("%s %+v: %d DECL_TAGs, %d candidate tags, %d TYPE_TAGs", tc.object, tc.opts, d, c, ty)
		}
	}
}

// TestAnnotationChainCycle makes a DW_AT_GNU_annotation chain loop: a located
// error, not a hang.
func TestAnnotationChainCycle(t *testing.T) {
	path := filepath.Join("testdata", "annot.gcc16.o")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elfobj.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, _, err := sections(f)
	if err != nil {
		t.Fatal(err)
	}
	// Find annotation "member_b2", whose DW_AT_GNU_annotation (a ref4 relative
	// to the unit) names "member_b1", and point it at itself.
	rd := d.NewReader()
	u := &d.Units()[0]
	if err := rd.Reset(u); err != nil {
		t.Fatal(err)
	}
	var die, next, target uint64
	var e dwarf.Entry
	for die == 0 {
		ok, err := rd.Next(&e)
		if err != nil || !ok {
			t.Fatalf("no chained annotation member_b2 (%v)", err)
		}
		if e.Tag != dwarf.TagGNUAnnotation || !e.Has(dwarf.AttrGNUAnnotation) {
			continue
		}
		if v, err := rd.String(&e, dwarf.AttrConstValue); err == nil && string(v) == "member_b2" {
			die, next = e.Offset, rd.Offset()
			target, _ = e.Ref(dwarf.AttrGNUAnnotation)
		}
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	base := ef.Section(".debug_info").Offset
	var old, self [4]byte
	binary.LittleEndian.PutUint32(old[:], uint32(target-u.Offset))
	binary.LittleEndian.PutUint32(self[:], uint32(die-u.Offset))
	k := bytes.Index(data[base+die:base+next], old[:])
	if k < 0 {
		t.Fatal("reference not found in the DIE")
	}
	bad := append([]byte(nil), data...)
	copy(bad[base+die+uint64(k):], self[:])
	bf, err := elfobj.NewFile("cycle.o", bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Encode(bf, Range{}, DefaultOptions())
	var de *dwarf.DecodeError
	if err == nil || !errors.As(err, &de) || !errors.Is(err, dwarf.ErrFormat) || !strings.Contains(err.Error(), "cycle.o") {
		t.Fatalf("cyclic chain: error %v, want a located format error", err)
	}
	// pahole 1.24 never reads the chain.
	opts := DefaultOptions()
	opts.Compat = Compat124
	if _, err := Encode(bf, Range{}, opts); err != nil {
		t.Errorf("Compat124: %v", err)
	}
}

func TestReleaseBuffers(t *testing.T) {
	path := filepath.Join("testdata", "types.dwarf5.o")
	f, err := elfobj.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first, err := Encode(f, Range{}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	pooled.Lock()
	kept := len(pooled.free)
	pooled.Unlock()
	if kept == 0 {
		t.Fatal("Encode kept no buffers for the next call")
	}
	ReleaseBuffers()
	pooled.Lock()
	kept = len(pooled.free)
	pooled.Unlock()
	if kept != 0 {
		t.Fatalf("%d buffers kept after ReleaseBuffers", kept)
	}
	again, err := Encode(f, Range{}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, a := first.Types.Sections()
	_, b := again.Types.Sections()
	if !bytes.Equal(a, b) {
		t.Error("an Encode on fresh buffers gives other types")
	}
}
