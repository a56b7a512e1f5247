package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A module converted on a base whose preparation is cached gives the same bytes as
// without the cache: when the cache is written, when it is read, and when its files
// are damaged or truncated (then made and written anew).
func TestPreparedBaseCache(t *testing.T) {
	dir := t.TempDir()
	base, module := "testdata/features/features.kbuild-6.1.btf", "testdata/features/features.o"
	convert := func() []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.btf")
		runBTF(t, "encode", "-j", "1", "--base", base, "-o", out, "--btf_gen_floats", module)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	t.Setenv(cacheEnv, "off")
	want := convert()
	t.Setenv(cacheEnv, dir)
	if got := convert(); !bytes.Equal(got, want) {
		t.Fatal("writing the cache: other bytes than without it")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "base-*"))
	if len(files) != 2 {
		t.Fatalf("cache files %q, want a .prep and a .strx", files)
	}
	before, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := convert(); !bytes.Equal(got, want) {
		t.Fatal("reading the cache: other bytes than without it")
	}
	if after, err := os.Stat(files[0]); err != nil || !os.SameFile(before, after) {
		t.Error("reading the cache wrote it again")
	}
	for _, damage := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b },
		func(b []byte) []byte { return b[:len(b)-4] },
		func(b []byte) []byte { return nil },
	} {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := convert(); !bytes.Equal(got, want) {
			t.Fatal("a damaged cache: other bytes than without it")
		}
		if got := convert(); !bytes.Equal(got, want) {
			t.Fatal("the cache written after a damaged one: other bytes than without it")
		}
	}
}

// TestMain keeps the tests' prepared bases out of the user's cache directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rules_btf-cache")
	if err != nil {
		os.Setenv(cacheEnv, "off")
	} else if os.Getenv(cacheEnv) == "" {
		os.Setenv(cacheEnv, dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
