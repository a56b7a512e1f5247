package finalize

import (
	"debug/elf"
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
