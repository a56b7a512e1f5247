package finalize

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadImage(t *testing.T) {
	img, err := LoadImage("testdata/e2e/prog")
	if err != nil {
		t.Fatal(err)
	}
	if img.Rel || img.AddrSize != 8 || !img.HasSymtab {
		t.Errorf("Rel=%v AddrSize=%d HasSymtab=%v", img.Rel, img.AddrSize, img.HasSymtab)
	}
	p := img.sectionByName(PercpuSection)
	if p == 0 || img.Sections[p].Addr != 0 || img.Sections[p].Size != 0x68 {
		t.Errorf("per-CPU section %d: %+v", p, img.Sections[p])
	}
	var files, percpu []string
	for _, s := range img.Symbols {
		switch {
		case s.Type == elf.STT_FILE:
			files = append(files, s.Name)
		case s.Type == elf.STT_OBJECT && s.Section == uint32(p):
			percpu = append(percpu, s.Name)
		}
	}
	if got := strings.Join(files, " "); got != "a.c b.c" {
		t.Errorf("STT_FILE symbols %q", got)
	}
	if got := strings.Join(percpu, " "); got != "cpu_number cpu_number zero_sized fixed_first names runqueues" {
		t.Errorf("per-CPU symbols %q", got)
	}

	rel, err := LoadImage("testdata/e2e/a.o")
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Rel {
		t.Error("a.o: not ET_REL")
	}
}

func TestLoadImageErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("\x7fELF\x02\x01\x01garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing"), garbage} {
		_, err := LoadImage(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "finalize: ") {
			t.Errorf("LoadImage(%s) = %v, want an error naming the file", path, err)
		}
	}
}

// TestReadSymbols checks the symbol table reader against debug/elf's on the test
// programs and, when present, a real vmlinux and module.
func TestReadSymbols(t *testing.T) {
	paths := []string{"testdata/e2e/prog", "testdata/e2e/a.o"}
	for _, p := range []string{"/var/cache/rules_btf/kernel/vmlinux", "/var/cache/rules_btf/kernel/modules/net/key/af_key.ko"} {
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	for _, path := range paths {
		img, err := LoadImage(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.Symbols()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !img.HasSymtab || len(img.Symbols) != len(want) {
			t.Fatalf("%s: %d symbols (HasSymtab %v), debug/elf %d", path, len(img.Symbols), img.HasSymtab, len(want))
		}
		for i, w := range want {
			g := img.Symbols[i]
			if g.Name != w.Name || g.Value != w.Value || g.Size != w.Size || g.Type != elf.ST_TYPE(w.Info) || g.Bind != elf.ST_BIND(w.Info) ||
				(w.Section != elf.SHN_XINDEX && g.Section != uint32(w.Section)) {
				t.Fatalf("%s: symbol %d is %+v, debug/elf has %+v", path, i+1, g, w)
			}
		}
	}
}

// TestReadSymbolsErrors checks that a corrupt symbol table is an error naming
// the section and the offset of the symbol.
func TestReadSymbolsErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/e2e/prog")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	symtab := f.SectionByType(elf.SHT_SYMTAB)
	strtab := f.Sections[symtab.Link]
	// Symbol 1's name offset, past the end of the string table.
	bad := append([]byte(nil), data...)
	f.ByteOrder.PutUint32(bad[symtab.Offset+24:], uint32(strtab.Size)+10)
	path := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadImage(path)
	want := fmt.Sprintf(".symtab at offset %#x: symbol 1: name", symtab.Offset+24)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadImage = %v, want an error with %q", err, want)
	}
}
