package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/rules-btf/rules_btf/converter/btf"
)

// flagset is one line of testdata/features/flagsets: a pahole command line and the
// pahole version whose BTF of the features fixture, features.NAME.btf, it made.
type flagset struct {
	name, version string
	flags         []string
}

func readFlagsets(t *testing.T) []flagset {
	t.Helper()
	data, err := os.ReadFile("testdata/features/flagsets")
	if err != nil {
		t.Fatal(err)
	}
	var sets []flagset
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			t.Fatalf("flagsets: bad line %q", line)
		}
		sets = append(sets, flagset{f[0], f[1], strings.Fields(f[2])})
	}
	return sets
}

// readBTF2 reads two BTF files.
func readBTF2(t *testing.T, x, y string) (*btf.Spec, *btf.Spec) {
	t.Helper()
	a, err := readBTF(x, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readBTF(y, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// sameTypes checks that the BTF files ours and ref hold the same types with the same
// IDs: every field of every type, names as strings (the string sections' order may
// differ).
func sameTypes(t *testing.T, ours, ref string) {
	t.Helper()
	a, b := readBTF2(t, ours, ref)
	if reflect.DeepEqual(a.Types, b.Types) {
		return
	}
	diffBTF(t, ours, ref, "")
	for i := range min(len(a.Types), len(b.Types)) {
		if !reflect.DeepEqual(a.Types[i], b.Types[i]) {
			t.Fatalf("type %d: ours %+v, pahole's %+v", i+1, a.Types[i], b.Types[i])
		}
	}
	t.Fatalf("ours has %d types, pahole's %d", len(a.Types), len(b.Types))
}

// keepsOnlyConsistent reports whether pahole 1.32 flags drop functions with
// inconsistent prototypes.
func keepsOnlyConsistent(flags []string) bool {
	c := &conf{}
	for _, f := range flags {
		switch {
		case strings.HasPrefix(f, "--btf_features="):
			c.addFeatures(strings.TrimPrefix(f, "--btf_features="), false)
		case f == "--skip_encoding_btf_inconsistent_proto":
			c.skipInconsistentProto = true
		}
	}
	return c.skipInconsistentProto
}

// sameTypesBut is sameTypes for files that differ in the prototype of the FUNC
// named fn only: the same kinds and names, type for type, and the same types
// otherwise.
func sameTypesBut(t *testing.T, ours, ref, fn string) {
	t.Helper()
	a, b := readBTF2(t, ours, ref)
	if len(a.Types) != len(b.Types) {
		t.Fatalf("ours has %d types, pahole's %d", len(a.Types), len(b.Types))
	}
	var proto btf.TypeID
	for i := range a.Types {
		if a.Types[i].Kind == btf.KindFunc && a.Types[i].Name == fn {
			proto = a.Types[i].Type
		}
	}
	for i := range a.Types {
		x, y := a.Types[i], b.Types[i]
		if btf.TypeID(i+1) == proto {
			if x.Kind != y.Kind {
				t.Fatalf("type %d, %s's prototype: ours %v, pahole's %v", i+1, fn, x.Kind, y.Kind)
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("type %d: ours %+v, pahole's %+v", i+1, x, y)
		}
	}
}

// runPaholeAs runs the pahole front end claiming version.
func runPaholeAs(t *testing.T, version string, args ...string) error {
	t.Helper()
	t.Setenv(paholeVersionEnv, version)
	var out bytes.Buffer
	return run(append([]string{"pahole"}, args...), &out)
}

// unsupportedFlagsets are the flagsets whose features the front end refuses (a
// usage error naming the feature) rather than write other BTF than pahole's.
var unsupportedFlagsets = map[string]string{
	"all":     "true_signature",
	"gen_all": "true_signature",
}

// etRelInconsistentGap is what the front end does not reproduce yet: in a relocatable
// object (features.o), pahole 1.32 without consistent_func keeps the FUNC "helper" with
// the prototype of other.c, whatever the link order, where ours keeps features.c's
// (in the linked program both keep features.c's). Kernel builds pass consistent_func
// (or --skip_encoding_btf_inconsistent_proto), which drops such a function.
const etRelInconsistentGap = "helper"

// Every pahole command line of the flagsets, as a kernel build or a user gives it,
// writes what the pahole it claims to be wrote for the features fixture, linked
// (features) and relocatable (features.o, whose per-CPU section stays its own): the
// same types with the same IDs.
func TestPaholeFeatures(t *testing.T) {
	for _, fs := range readFlagsets(t) {
		for _, bin := range []string{"features", "features.o"} {
			t.Run(fs.name+"/"+bin, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out.btf")
				args := append(append([]string(nil), fs.flags...), "--btf_encode_detached="+out, "testdata/features/"+bin)
				err := runPaholeAs(t, fs.version, args...)
				if want, ok := unsupportedFlagsets[fs.name]; ok {
					if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), want) {
						t.Fatalf("pahole %s: %v; want a usage error naming %s", strings.Join(args, " "), err, want)
					}
					return
				}
				if err != nil {
					t.Fatalf("pahole %s: %v", strings.Join(args, " "), err)
				}
				ref := "testdata/features/" + bin + "." + fs.name + ".btf"
				if bin == "features.o" && fs.version == "1.32" && !keepsOnlyConsistent(fs.flags) {
					sameTypesBut(t, out, ref, etRelInconsistentGap)
					return
				}
				sameTypes(t, out, ref)
			})
		}
	}
}

// -J writes .BTF into the file in place, replacing one that is there, as Kbuild
// runs it on vmlinux and on modules; nothing else in the file changes.
func TestPaholeInPlace(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "features")
	orig, err := os.ReadFile("testdata/features/features")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	flags := []string{"-J", "-j", "--btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs", "--lang_exclude=rust"}
	for range 2 { // add, then replace
		if err := runPaholeAs(t, "1.32", append(flags, bin)...); err != nil {
			t.Fatal(err)
		}
		raw := filepath.Join(dir, "raw.btf")
		if err := os.WriteFile(raw, sectionData(t, bin, ".BTF"), 0o644); err != nil {
			t.Fatal(err)
		}
		sameTypes(t, raw, "testdata/features/features.kbuild-6.12.btf")
	}
	// Every section the file had is where it was, with the same contents.
	before, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	after, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	for _, s := range before.Sections {
		if s.Name == ".shstrtab" {
			continue // a new copy, with ".BTF" added
		}
		a := after.Section(s.Name)
		if a == nil || a.Offset != s.Offset || a.Size != s.Size {
			t.Errorf("section %s moved or is gone", s.Name)
			continue
		}
		if s.Type == elf.SHT_NOBITS {
			continue
		}
		x, _ := s.Data()
		y, _ := a.Data()
		if !bytes.Equal(x, y) {
			t.Errorf("section %s changed", s.Name)
		}
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode after -J: %v, %v; want 0755", fi.Mode(), err)
	}
}

func sectionData(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(name)
	if s == nil {
		t.Fatalf("%s: no %s section", path, name)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pahole's option syntax: what each command line sets.
func TestPaholeParse(t *testing.T) {
	ncpu := runtime.NumCPU()
	for _, tc := range []struct {
		args     []string
		files    []string
		jobs     int
		base     string
		detached string
	}{
		{[]string{"-J", "vmlinux"}, []string{"vmlinux"}, 1, "", ""},
		{[]string{"-J", "-j", "vmlinux"}, []string{"vmlinux"}, ncpu, "", ""},
		{[]string{"-J", "-j3", "vmlinux"}, []string{"vmlinux"}, 3, "", ""},
		{[]string{"-Jj3", "vmlinux"}, []string{"vmlinux"}, 3, "", ""},
		{[]string{"-J", "-j", "3", "vmlinux"}, []string{"vmlinux"}, 3, "", ""},
		{[]string{"-J", "--jobs=4", "vmlinux"}, []string{"vmlinux"}, 4, "", ""},
		{[]string{"-J", "--jobs", "vmlinux"}, []string{"vmlinux"}, ncpu, "", ""},
		{[]string{"-J", "--btf_base", "vmlinux", "m.ko"}, []string{"m.ko"}, 1, "vmlinux", ""},
		{[]string{"m.ko", "-J", "--btf_base=vmlinux", "-j2"}, []string{"m.ko"}, 2, "vmlinux", ""},
		{[]string{"--btf_encode_detached", "out.btf", "x"}, []string{"x"}, 1, "", "out.btf"},
		{[]string{"--btf_encode_det=out.btf", "x"}, []string{"x"}, 1, "", "out.btf"}, // a unique prefix
		{[]string{"-J", "--", "-odd-name"}, []string{"-odd-name"}, 1, "", ""},
	} {
		p, err := parsePahole(tc.args, "1.32")
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !p.encode || !reflect.DeepEqual(p.files, tc.files) || p.jobs != tc.jobs || p.base != tc.base || p.detached != tc.detached {
			t.Errorf("%q: encode %v, files %q, jobs %d, base %q, detached %q", tc.args, p.encode, p.files, p.jobs, p.base, p.detached)
		}
	}
}

// What pahole's --version, --numeric_version and --supported_btf_features print, for
// each version the front end can claim.
func TestPaholeVersion(t *testing.T) {
	for _, tc := range []struct{ env, args, want string }{
		{"", "--version", "v1.32\n"},
		{"1.32", "--version", "v1.32\n"},
		{"1.24", "--version", "v1.24\n"},
		{"1.24", "--numeric_version", "124\n"},
		{"", "--supported_btf_features", "encode_force,var,float,decl_tag,type_tag,enum64,optimized_func,consistent_func,decl_tag_kfuncs,reproducible_build,distilled_base,global_var,attributes,true_signature,force_cu_merging\n"},
	} {
		t.Setenv(paholeVersionEnv, tc.env)
		var out bytes.Buffer
		if err := run([]string{"pahole", tc.args}, &out); err != nil || out.String() != tc.want {
			t.Errorf("%s=%s pahole %s: %q, %v; want %q", paholeVersionEnv, tc.env, tc.args, out.String(), err, tc.want)
		}
	}
}

// What the front end refuses: a usage error (exit status 2) naming the option.
func TestPaholeRefuses(t *testing.T) {
	for _, tc := range []struct {
		version string
		args    []string
		want    string
	}{
		{"1.32", []string{"-C", "task_struct", "vmlinux"}, "--class_name (-C)"},
		{"1.32", []string{"--sizes", "vmlinux"}, "--sizes (-s)"},
		{"1.32", []string{"--btf_load", "x"}, "'--btf_load'"},
		{"1.32", []string{"-J", "--btf_feat=var", "x"}, "ambiguous"},
		{"1.32", []string{"-J", "--btf_features_strict=var,bogus", "x"}, "bogus"},
		{"1.32", []string{"vmlinux"}, "-J"},
		{"1.32", []string{"-J"}, "no input file"},
		{"1.32", []string{"-J", "a", "b"}, "2 input files"},
		{"1.32", []string{"-J", "--btf_encode_force=yes", "x"}, "doesn't allow an argument"},
		{"1.32", []string{"-J", "--btf_base"}, "requires an argument"},
		{"1.32", []string{"-J", "-j", "x", "-Q"}, "invalid option -- 'Q'"},
		{"1.32", []string{"-J", "--btf_features=true_signature", "x"}, "true_signature"},
		{"1.24", []string{"-J", "--btf_features=var", "x"}, "pahole v1.24 has no such option"},
		{"1.24", []string{"-J", "--btf_gen_optimized", "x"}, "--btf_gen_optimized"},
		{"2.0", []string{"--version"}, paholeVersionEnv},
	} {
		err := runPaholeAs(t, tc.version, tc.args...)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("v%s pahole %q: %v; want a usage error with %q", tc.version, tc.args, err, tc.want)
		}
	}
}

// btf encode takes --btf_features with pahole's rules: repeated flags add up, and an
// unknown name is ignored unless strict; the result is what the pahole front end
// writes for the same flags.
func TestEncodeFeaturesAsPahole(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "encode.btf")
	runBTF(t, "encode", "-j", "2", "-o", ours, "--btf_features=float", "--btf_features=var,global_var", "--btf_features=bogus", "testdata/features/features")
	sameTypes(t, ours, "testdata/features/features.repeated.btf")
}

// The kfunc fixture with pahole's flags for Linux 6.12: the pahole front end and
// btf encode agree with pahole 1.32 on the kfunc tags.
func TestPaholeKfuncs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.btf")
	if err := runPaholeAs(t, "1.32", append(append([]string(nil), paholeFlags["1.32"]...), "--btf_encode_detached="+out, "testdata/kfunc/kfunc")...); err != nil {
		t.Fatal(err)
	}
	sameTypes(t, out, "testdata/kfunc/kfunc.pahole132.btf")
}

// What pahole does with an object that has nothing to encode: without DWARF, pahole
// 1.24 fails and 1.32 exits 0 without writing; with DWARF but no types (an assembler
// object), both write nothing without a base.
func TestPaholeNothingToEncode(t *testing.T) {
	gcc := needTool(t, "gcc")
	dir := t.TempDir()
	src := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noDWARF := filepath.Join(dir, "nodwarf.o")
	runCmd(t, gcc, "-c", "-O2", "-o", noDWARF, src("nodwarf.c", "int x;\nint f(void) { return x; }\n"))
	asm := filepath.Join(dir, "asm.o")
	runCmd(t, gcc, "-c", "-g", "-o", asm, src("asm.s", ".text\n.globl g\ng: ret\n"))
	for _, tc := range []struct {
		version, obj string
		fails        bool
	}{
		{"1.24", noDWARF, true},
		{"1.32", noDWARF, false},
		{"1.24", asm, false},
		{"1.32", asm, false},
	} {
		orig, err := os.ReadFile(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.btf")
		err = runPaholeAs(t, tc.version, "-J", "--btf_encode_detached="+out, tc.obj)
		if (err != nil) != tc.fails {
			t.Errorf("v%s pahole -J %s: %v; want an error: %v", tc.version, filepath.Base(tc.obj), err, tc.fails)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("v%s pahole --btf_encode_detached %s wrote a file", tc.version, filepath.Base(tc.obj))
		}
		err = runPaholeAs(t, tc.version, "-J", tc.obj)
		if now, _ := os.ReadFile(tc.obj); !bytes.Equal(now, orig) {
			t.Errorf("v%s pahole -J %s changed the file (%v)", tc.version, filepath.Base(tc.obj), err)
		}
	}
}

// Feature attributes on a kfunc flagged KF_ARENA_RET whose return value is no pointer:
// an error naming the kfunc, as pahole's "Error adding BPF_ARENA_ATTR", not BTF.
func TestPaholeArenaNotPointer(t *testing.T) {
	gcc := needTool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "bad.c")
	code := `#include "` + filepath.Join(mustAbs(t, "testdata"), "btf_ids.h") + `"
__attribute__((noinline)) int bpf_bad_arena(int x) { return x + 1; }
SET8_START(bad_kfuncs, BTF_SET8_KFUNCS);
ID_FLAGS(bpf_bad_arena, 1, KF_ARENA_RET);
SET8_END(bad_kfuncs);
int main(int argc, char **argv) { return bpf_bad_arena(argc) + (argv != 0); }
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bad")
	runCmd(t, gcc, "-g", "-O2", "-o", bin, src)
	out := filepath.Join(dir, "out.btf")
	err := runPaholeAs(t, "1.32", "--btf_features=decl_tag_kfuncs,attributes", "--btf_encode_detached="+out, bin)
	if err == nil || !strings.Contains(err.Error(), "bpf_bad_arena") || !strings.Contains(err.Error(), "not a pointer") {
		t.Errorf("attributes on a non-pointer arena return: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output file was written")
	}
	// Without attributes the same kfunc is only tagged.
	if err := runPaholeAs(t, "1.32", "--btf_features=decl_tag_kfuncs", "--btf_encode_detached="+out, bin); err != nil {
		t.Error(err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
