package output

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const helloC = `#include <stdio.h>
int counter = 42;
static int square(int x) { return x * x; }
int main(void) { printf("hello %d\n", square(counter)); return 0; }
`

const helloOut = "hello 1764\n"

// gcc compiles src in dir with args; it skips the test if there is no gcc.
func gcc(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.c"), []byte(helloC), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func run(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(path).CombinedOutput()
	if err != nil || string(out) != helloOut {
		t.Errorf("%s: %v, output %q, want %q", path, err, out, helloOut)
	}
}

func readelf(t *testing.T, path string) {
	t.Helper()
	if _, err := exec.LookPath("readelf"); err != nil {
		return
	}
	cmd := exec.Command("readelf", "-W", "-h", "-l", "-S", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("readelf %s: %v\n%s", path, err, stderr.String())
	}
}

// check verifies that mod is orig with section name holding data: every other section
// (the name table may grow) has the same header and bytes, the program headers and
// the segments' bytes are unchanged, and the section is where debug/elf finds it.
func check(t *testing.T, orig, mod []byte, name string, data []byte) {
	t.Helper()
	fo, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	fm, err := elf.NewFile(bytes.NewReader(mod))
	if err != nil {
		t.Fatalf("debug/elf cannot read the result: %v", err)
	}
	if fo.FileHeader != fm.FileHeader {
		t.Errorf("file header %+v, was %+v", fm.FileHeader, fo.FileHeader)
	}
	if !reflect.DeepEqual(progs(fo), progs(fm)) {
		t.Errorf("program headers changed:\n%+v\n%+v", progs(fm), progs(fo))
	}
	// Segments keep their bytes, except e_shoff, e_shnum and e_shstrndx of the ELF
	// header, which the first PT_LOAD of an executable usually maps.
	maskedO, maskedM := maskShdrFields(orig, fo), maskShdrFields(mod, fm)
	for _, p := range fo.Progs {
		end := p.Off + p.Filesz
		if !bytes.Equal(maskedO[p.Off:end], maskedM[p.Off:end]) {
			t.Errorf("segment at %#x changed", p.Off)
		}
	}
	replaced := fo.Section(name) != nil
	want := len(fo.Sections)
	if !replaced {
		want++
	}
	if len(fm.Sections) != want {
		t.Fatalf("%d sections, want %d", len(fm.Sections), want)
	}
	shstrndx := shstrndx(t, fm)
	for i, so := range fo.Sections {
		sm := fm.Sections[i]
		if so.Name == name || i == shstrndx {
			continue
		}
		if so.SectionHeader != sm.SectionHeader {
			t.Errorf("section %d: header %+v, was %+v", i, sm.SectionHeader, so.SectionHeader)
		}
		if so.Type != elf.SHT_NOBITS && !bytes.Equal(orig[so.Offset:so.Offset+so.FileSize], mod[sm.Offset:sm.Offset+sm.FileSize]) {
			t.Errorf("section %d (%s): contents changed", i, so.Name)
		}
	}
	so, sm := fo.Sections[shstrndx], fm.Sections[shstrndx]
	if !bytes.HasPrefix(mod[sm.Offset:sm.Offset+sm.Size], orig[so.Offset:so.Offset+so.Size]) {
		t.Error("section name table lost names")
	}
	s := fm.Section(name)
	if s == nil {
		t.Fatalf("no section %s", name)
	}
	got, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("%s holds %d bytes %q, want %q", name, len(got), got, data)
	}
	if !replaced {
		if s.Type != elf.SHT_PROGBITS || s.Flags != 0 || s.Addralign != 4 || s.Offset%4 != 0 {
			t.Errorf("new section header %+v", s.SectionHeader)
		}
	}
}

// maskShdrFields returns a copy of b with the ELF header's section table fields zeroed.
func maskShdrFields(b []byte, f *elf.File) []byte {
	c := append([]byte(nil), b...)
	if f.Class == elf.ELFCLASS64 {
		clear(c[40:48]) // e_shoff
		clear(c[60:64]) // e_shnum, e_shstrndx
	} else {
		clear(c[32:36])
		clear(c[48:52])
	}
	return c
}

func progs(f *elf.File) []elf.ProgHeader {
	var ps []elf.ProgHeader
	for _, p := range f.Progs {
		ps = append(ps, p.ProgHeader)
	}
	return ps
}

// shstrndx finds the section name table's index (debug/elf does not export it).
func shstrndx(t *testing.T, f *elf.File) int {
	for i, s := range f.Sections {
		if s.Name == ".shstrtab" {
			return i
		}
	}
	t.Fatal("no .shstrtab")
	return 0
}

func addFile(t *testing.T, in, out, name string, data []byte) (orig, mod []byte) {
	t.Helper()
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	mod, err = AddSection(orig, name, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(out, mod, 0o755); err != nil {
		t.Fatal(err)
	}
	check(t, orig, mod, name, data)
	readelf(t, out)
	return orig, mod
}

var btfData = []byte("\x9f\xeb\x01\x00some BTF bytes, 30 of them")

func TestObject(t *testing.T) {
	dir := t.TempDir()
	gcc(t, dir, "-g", "-O2", "-c", "hello.c", "-o", "hello.o")
	addFile(t, filepath.Join(dir, "hello.o"), filepath.Join(dir, "btf.o"), ".BTF", btfData)
	gcc(t, dir, "btf.o", "-o", "hello")
	run(t, filepath.Join(dir, "hello"))
	// The linker keeps an unknown non-alloc section, as it does pahole's.
	f, err := elf.Open(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := f.Section(".BTF"); s == nil {
		t.Error("linked executable has no .BTF")
	}
}

func TestExecutable(t *testing.T) {
	for _, pie := range []string{"-no-pie", "-pie"} {
		t.Run(pie, func(t *testing.T) {
			dir := t.TempDir()
			gcc(t, dir, "-g", pie, "hello.c", "-o", "hello")
			exe := filepath.Join(dir, "hello.btf")
			_, first := addFile(t, filepath.Join(dir, "hello"), exe, ".BTF", btfData)
			run(t, exe)

			// Replace: smaller (in place), then larger (appended).
			small := []byte("tiny")
			second, err := AddSection(first, ".BTF", small)
			if err != nil {
				t.Fatal(err)
			}
			check(t, first, second, ".BTF", small)
			if len(second) != len(first) {
				t.Errorf("in-place replacement changed the file size from %d to %d", len(first), len(second))
			}
			large := bytes.Repeat([]byte("BTF!"), 1000)
			third, err := AddSection(second, ".BTF", large)
			if err != nil {
				t.Fatal(err)
			}
			check(t, second, third, ".BTF", large)
			// And a second new section whose name is new to the name table.
			fourth, err := AddSection(third, ".BTF.base", small)
			if err != nil {
				t.Fatal(err)
			}
			check(t, third, fourth, ".BTF.base", small)
			if err := WriteFileAtomic(exe, fourth, 0o755); err != nil {
				t.Fatal(err)
			}
			readelf(t, exe)
			run(t, exe)
		})
	}
}

// TestModule replaces a kernel module's .BTF (skipped without the kernel data).
func TestModule(t *testing.T) {
	path := "/var/cache/rules_btf/kernel/modules/net/key/af_key.ko"
	orig, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not present", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	old, err := f.Section(".BTF").Data()
	if err != nil {
		t.Fatal(err)
	}
	bigger := append(append([]byte(nil), old...), "more"...)
	mod, err := AddSection(orig, ".BTF", bigger)
	if err != nil {
		t.Fatal(err)
	}
	check(t, orig, mod, ".BTF", bigger)
}

// makeELF builds an ET_EXEC file with one PT_LOAD segment, .text, .shstrtab and
// extra empty sections.
func makeELF(t *testing.T, class elf.Class, bo binary.ByteOrder, extra int) []byte {
	t.Helper()
	const textOff, textAddr = 0x100, 0x400100
	text := bytes.Repeat([]byte{0x90}, 16)
	shstr := []byte("\x00.text\x00.shstrtab\x00.d\x00")
	shnum := 3 + extra
	shoff := (textOff + len(text) + len(shstr) + 7) &^ 7
	data := elf.ELFDATA2LSB
	if bo == binary.BigEndian {
		data = elf.ELFDATA2MSB
	}
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(class), byte(data), 1}
	var buf bytes.Buffer
	w := func(v any) {
		if err := binary.Write(&buf, bo, v); err != nil {
			t.Fatal(err)
		}
	}
	eShnum, sh0Size := uint16(shnum), uint64(0)
	if shnum >= 0xff00 {
		eShnum, sh0Size = 0, uint64(shnum)
	}
	type sec struct {
		name, typ   uint32
		flags, addr uint64
		off, size   uint64
		align       uint64
	}
	secs := []sec{
		{size: sh0Size},
		{name: 1, typ: uint32(elf.SHT_PROGBITS), flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR), addr: textAddr, off: textOff, size: uint64(len(text)), align: 16},
		{name: 7, typ: uint32(elf.SHT_STRTAB), off: uint64(textOff + len(text)), size: uint64(len(shstr)), align: 1},
	}
	for range extra {
		secs = append(secs, sec{name: 17, typ: uint32(elf.SHT_PROGBITS), off: uint64(textOff), align: 1})
	}
	if class == elf.ELFCLASS64 {
		w(elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1, Entry: textAddr,
			Phoff: 64, Shoff: uint64(shoff), Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64, Shnum: eShnum, Shstrndx: 2})
		w(elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: textOff, Vaddr: textAddr, Paddr: textAddr,
			Filesz: uint64(len(text)), Memsz: uint64(len(text)), Align: 0x1000})
	} else {
		w(elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: 1, Entry: textAddr,
			Phoff: 52, Shoff: uint32(shoff), Ehsize: 52, Phentsize: 32, Phnum: 1, Shentsize: 40, Shnum: eShnum, Shstrndx: 2})
		w(elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: textOff, Vaddr: textAddr, Paddr: textAddr,
			Filesz: uint32(len(text)), Memsz: uint32(len(text)), Align: 0x1000})
	}
	buf.Write(make([]byte, textOff-buf.Len()))
	buf.Write(text)
	buf.Write(shstr)
	buf.Write(make([]byte, shoff-buf.Len()))
	for _, s := range secs {
		if class == elf.ELFCLASS64 {
			w(elf.Section64{Name: s.name, Type: s.typ, Flags: s.flags, Addr: s.addr, Off: s.off, Size: s.size, Addralign: s.align})
		} else {
			w(elf.Section32{Name: s.name, Type: s.typ, Flags: uint32(s.flags), Addr: uint32(s.addr), Off: uint32(s.off), Size: uint32(s.size), Addralign: uint32(s.align)})
		}
	}
	return buf.Bytes()
}

func TestClassesAndByteOrders(t *testing.T) {
	for _, class := range []elf.Class{elf.ELFCLASS32, elf.ELFCLASS64} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(class.String()+"/"+bo.String(), func(t *testing.T) {
				orig := makeELF(t, class, bo, 0)
				mod, err := AddSection(orig, ".BTF", btfData)
				if err != nil {
					t.Fatal(err)
				}
				check(t, orig, mod, ".BTF", btfData)
				again, err := AddSection(mod, ".BTF", btfData[:5])
				if err != nil {
					t.Fatal(err)
				}
				check(t, mod, again, ".BTF", btfData[:5])
				// "xt" is the tail of ".text": the name table is reused, not grown.
				tail, err := AddSection(orig, "xt", btfData)
				if err != nil {
					t.Fatal(err)
				}
				check(t, orig, tail, "xt", btfData)
				f, _ := elf.NewFile(bytes.NewReader(tail))
				if f.Sections[2].Offset != 0x110 {
					t.Errorf("name table moved to %#x though the name was in it", f.Sections[2].Offset)
				}
			})
		}
	}
}

func TestExtendedNumbering(t *testing.T) {
	for _, extra := range []int{0xff00 - 4, 0xff00 - 3, 0xff00 + 2} { // ends below, at, past SHN_LORESERVE
		orig := makeELF(t, elf.ELFCLASS64, binary.LittleEndian, extra)
		mod, err := AddSection(orig, ".BTF", btfData)
		if err != nil {
			t.Fatal(err)
		}
		n := 3 + extra + 1
		f, err := elf.NewFile(bytes.NewReader(mod))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Sections) != n {
			t.Fatalf("%d sections, want %d", len(f.Sections), n)
		}
		eShnum := binary.LittleEndian.Uint16(mod[60:])
		if want := uint16(n); n >= 0xff00 && eShnum != 0 || n < 0xff00 && eShnum != want {
			t.Errorf("%d sections: e_shnum %d", n, eShnum)
		}
		if got, _ := f.Sections[n-1].Data(); f.Sections[n-1].Name != ".BTF" || !bytes.Equal(got, btfData) {
			t.Errorf("last section %s holds %q", f.Sections[n-1].Name, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	good := makeELF(t, elf.ELFCLASS64, binary.LittleEndian, 0)
	patch := func(off int, b ...byte) []byte {
		c := append([]byte(nil), good...)
		copy(c[off:], b)
		return c
	}
	tests := []struct {
		name, section string
		elf           []byte
		want          string
	}{
		{"empty", ".BTF", nil, "elf: offset 0x0: not an ELF file"},
		{"not ELF", ".BTF", []byte("\x9f\xeb\x01\x00BTF, not ELF"), "not an ELF file"},
		{"class", ".BTF", patch(4, 3), "offset 0x4: unknown ELF class 3"},
		{"truncated header", ".BTF", good[:40], "truncated ELF header (40 bytes, need 64)"},
		{"core file", ".BTF", patch(16, byte(elf.ET_CORE)), "offset 0x10: ELF type 4 is not ET_REL, ET_EXEC or ET_DYN"},
		{"no section table", ".BTF", patch(40, 0, 0, 0, 0, 0, 0, 0, 0), "offset 0x28: no section header table"},
		{"section table beyond", ".BTF", good[:len(good)-64], "section header table of 3 entries beyond"},
		{"shstrndx", ".BTF", patch(62, 9), "section name table index 9 out of range (3 sections)"},
		{"shentsize", ".BTF", patch(58, 40), "section header size 40, want 64"},
		{"empty name", "", good, `invalid section name ""`},
		{"NUL in name", ".B\x00TF", good, "invalid section name"},
		{"replace alloc", ".text", good, "is part of the loaded image (SHF_ALLOC); replacing its 16 bytes with 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := AddSection(tt.elf, tt.section, btfData)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Same-size replacement of an allocated section is allowed.
	text := bytes.Repeat([]byte{0xcc}, 16)
	mod, err := AddSection(good, ".text", text)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mod[0x100:0x110], text) {
		t.Error(".text not replaced in place")
	}
	// Every truncation fails cleanly.
	for n := range len(good) {
		if _, err := AddSection(good[:n], ".BTF", btfData); err == nil {
			t.Errorf("AddSection of the first %d bytes succeeded", n)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.btf")
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer"), nil} {
		if err := WriteFileAtomic(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %q, %v; want %q", got, err, data)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("mode %v, want at most 0640", fi.Mode())
	}
	// Failures leave nothing behind and the old file intact.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = WriteFileAtomic(filepath.Join(dir, "sub"), []byte("x"), 0o644) // rename onto a directory
	if err == nil || !strings.Contains(err.Error(), "write "+filepath.Join(dir, "sub")) {
		t.Errorf("writing over a directory: %v", err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "out.btf sub" {
		t.Errorf("directory holds %v, want [out.btf sub]", names)
	}
}

// AddSectionsInPlace writes into the file what AddSection returns for it, section
// after section: added, replaced in place, replaced by a larger one, and a second
// new one in the same call.
func TestAddSectionsInPlace(t *testing.T) {
	dir := t.TempDir()
	gcc(t, dir, "-g", "hello.c", "-o", "hello")
	path := filepath.Join(dir, "hello")
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	large := bytes.Repeat([]byte("BTF!"), 1000)
	for _, secs := range [][]Section{
		{{".BTF", btfData}},
		{{".BTF", []byte("tiny")}},
		{{".BTF", large}, {".BTF.base", []byte("base")}},
		{{".BTF.base", large}, {".BTF", btfData}},
	} {
		for _, s := range secs {
			if want, err = AddSection(want, s.Name, s.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := AddSectionsInPlace(path, secs...); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("after %d sections: the file is not what AddSection returns", len(secs))
		}
	}
	readelf(t, path)
	run(t, path)

	// Bad input: an error naming the file, which is left as it was.
	text := filepath.Join(dir, "text")
	if err := os.WriteFile(text, []byte("not an ELF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AddSectionsInPlace(text, Section{".BTF", btfData}); !errors.Is(err, ErrNotELF) || !strings.Contains(err.Error(), text) {
		t.Errorf("AddSectionsInPlace(text file): %v", err)
	}
	if data, _ := os.ReadFile(text); string(data) != "not an ELF file\n" {
		t.Errorf("a failed AddSectionsInPlace changed the file")
	}
}
