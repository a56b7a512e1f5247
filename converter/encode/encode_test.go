package encode

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	ebtf "github.com/cilium/ebpf/btf"

	"github.com/rules-btf/rules_btf/converter/btf"
	"github.com/rules-btf/rules_btf/converter/elfobj"
	"github.com/rules-btf/rules_btf/converter/shard"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixtures = []string{"types.dwarf5.o", "types.dwarf4.o", "types.zlib.o", "types.exec", "types.nocomplex.o"}

// dump renders a shard as text, one type per line, bpftool style.
func dump(sh *shard.Shard) string {
	var b strings.Builder
	for i, cu := range sh.CUs {
		fmt.Fprintf(&b, "CU %d %q at %#x\n", i, cu.Name, cu.Offset)
	}
	for i := range sh.Types.Types {
		t := &sh.Types.Types[i]
		id := sh.Types.FirstID + btf.TypeID(i)
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
				fmt.Fprintf(&b, "\n\t'%s' val=%d", m.Name, int64(m.Value))
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
		fmt.Fprintf(&b, "FUNC %s proto=%d cu=%d ext=%v decl=%v inline=%v lowpc=%v/%#x named=%v optimized=%v\n",
			f.Name, f.Proto, f.CU, f.External, f.Declaration, f.Inline, f.HasLowPC, f.LowPC, f.AllParamsNamed, f.OptimizedParams)
	}
	for _, v := range sh.Vars {
		fmt.Fprintf(&b, "VAR %s type=%d cu=%d ext=%v decl=%v addr=%v/%#x section=%q\n",
			v.Name, v.Type, v.CU, v.External, v.Declaration, v.HasAddr, v.Addr, v.Section)
	}
	return b.String()
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
		find := func(kind btf.Kind, n string) *btf.Type {
			for i := range sh.Types.Types {
				if tt := &sh.Types.Types[i]; tt.Kind == kind && tt.Name == n {
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
		if e := find(btf.KindEnum, "small"); !e.KindFlag || int64(e.Members[0].Value) != -2 {
			t.Errorf("%s: enum small: %+v", name, e)
		}
		if e := find(btf.KindEnum64, "big"); e.KindFlag || e.Members[1].Value != 0x123456789abcdef {
			t.Errorf("%s: enum big: %+v", name, e)
		}
		if e := find(btf.KindEnum64, "bigneg"); int64(e.Members[0].Value) != -1<<63 {
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
	for _, tt := range sh.Types.Types {
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
	if len(sh.CUs) != 0 || len(sh.Types.Types) != 0 {
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
		for _, r := range rs {
			sh, err := Encode(f, r, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			types += len(sh.Types.Types)
			cus = append(cus, sh.CUs...)
		}
		if types != len(whole.Types.Types) || len(cus) != len(whole.CUs) {
			t.Errorf("%d ranges: %d types in %d CUs, whole file %d in %d", n, types, len(cus), len(whole.Types.Types), len(whole.CUs))
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
				v := m.Value
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

// comparePahole encodes path with pahole 1.24 (on the host) and with Encode,
// and checks that both give the same set of types (functions, variables and
// data sections aside: those are decided by the finalize stage).
func comparePahole(t *testing.T, path string) {
	pahole, err := exec.LookPath("pahole")
	if err != nil {
		t.Skip("pahole not installed")
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
	sh, err := EncodeFile(path, Options{Features: FeatureFloat | FeatureEnum64 | FeatureDeclTag | FeatureTypeTag, Compat: Compat124})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	protos := map[btf.TypeID]bool{}
	for _, f := range sh.Funcs {
		protos[f.Proto] = true
	}
	for i := range sh.Types.Types {
		id := sh.Types.FirstID + btf.TypeID(i)
		if k := sh.Types.Types[i].Kind; protos[id] || k == btf.KindDeclTag || k == btf.KindFwd {
			continue
		}
		ours[canonOurs(sh.Types, id, true)] = true
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
