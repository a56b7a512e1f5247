package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input must give a clear error naming the file, a non-zero exit (an error from
// run) and no output file; never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	objs, bin := buildExample(t, dir)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	elfData, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated", elfData[:len(elfData)/3])
	text := write("text", []byte("not an ELF file\n"))
	goodShard := filepath.Join(dir, "good.shard")
	runBTF(t, "shard", "-o", goodShard, objs[0])
	shardData, err := os.ReadFile(goodShard)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := write("corrupt.shard", append(bytes.Clone(shardData[:len(shardData)/2]), 0, 1, 2, 3))
	corrupt2 := write("corrupt2.shard", shardData[:len(shardData)/3])
	stripped := filepath.Join(dir, "stripped")
	runCmd(t, "objcopy", "--strip-debug", bin, stripped)

	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name string
		args []string
		want []string // fragments of the error message
		not  []string // fragments it must not have
	}{
		{"truncated ELF", []string{"encode", "-o", out, truncated}, []string{truncated}, nil},
		{"not an ELF", []string{"shard", "-o", out, text}, []string{text}, nil},
		{"no DWARF", []string{"encode", "-o", out, stripped}, []string{stripped, "no DWARF"}, nil},
		{"corrupt shard", []string{"merge", "-o", out, goodShard, corrupt}, []string{corrupt, "offset"}, nil},
		// Shards are read in parallel; the error is the first bad one's by position.
		{"two corrupt shards", []string{"merge", "-j", "4", "-o", out, goodShard, corrupt, goodShard, corrupt2}, []string{corrupt, "offset"}, []string{corrupt2}},
		{"truncated ELF as base", []string{"encode", "-o", out, "--base", truncated, bin}, []string{truncated}, nil},
		{"shard given as ELF", []string{"merge", "-o", out, "--elf", goodShard, goodShard}, []string{goodShard}, nil},
		{"ELF given as shard", []string{"merge", "-o", out, bin}, []string{bin}, nil},
		{"missing input", []string{"stat", filepath.Join(dir, "nope")}, []string{"nope"}, nil},
		{"not BTF", []string{"stat", text}, []string{text}, nil},
		{"bad --cus", []string{"shard", "-o", out, "--cus", "3/2", objs[0]}, []string{"--cus"}, nil},
		{"unknown feature, strict", []string{"encode", "-o", out, "--btf_features_strict", "var,bogus", bin}, []string{"bogus"}, nil},
		{"unknown verb", []string{"frobnicate"}, []string{"frobnicate"}, nil},
		{"no -o", []string{"shard", objs[0]}, []string{"-o"}, nil},
		{"missing params file", []string{"@" + filepath.Join(dir, "no-params")}, []string{"no-params"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(tc.args, &stdout)
			if err == nil {
				t.Fatalf("btf %s: no error", strings.Join(tc.args, " "))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q mentions %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Errorf("bad input reached a panic: %v", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an output file was left behind after the error")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), "out") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

func TestParamsFile(t *testing.T) {
	dir := t.TempDir()
	objs, bin := buildExample(t, dir)
	var shards []string
	for _, o := range objs {
		runBTF(t, "shard", "-o", o+".shard", o)
		shards = append(shards, o+".shard")
	}
	params := filepath.Join(dir, "merge.params")
	lines := append([]string{"-o", filepath.Join(dir, "viaparams.btf"), "--elf", bin}, shards...)
	if err := os.WriteFile(params, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runBTF(t, "merge", "@"+params)
	runBTF(t, append([]string{"merge", "-o", filepath.Join(dir, "direct.btf"), "--elf", bin}, shards...)...)
	a, _ := os.ReadFile(filepath.Join(dir, "viaparams.btf"))
	b, _ := os.ReadFile(filepath.Join(dir, "direct.btf"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("merge through a params file differs from the same arguments given directly")
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	_, bin := buildExample(t, dir)
	out := filepath.Join(dir, "x.btf")
	runBTF(t, "encode", "-o", out, bin)
	text := runBTF(t, "stat", out)
	for _, want := range []string{"STRUCT", "FUNC", "DATASEC", "total"} {
		if !strings.Contains(text, want) {
			t.Errorf("stat output lacks %s:\n%s", want, text)
		}
	}
}
