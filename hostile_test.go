package sharedarray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/hostile from hostileSegments")

// hostileSegment is one crafted bad segment: how to make it from a good
// one, and the FormatError field Attach must name.
type hostileSegment struct {
	file  string // name under testdata/hostile
	field string
	make  func() []byte
}

// good returns a valid int32 (3, 4) segment of layout l and the offset of
// its trailer.
func good(l Layout) ([]byte, int) {
	b := segmentBytes(l, meta{dtype: Int32, shape: []int{3, 4}, nbytes: 48})
	return b, len(b) - l.TrailerSize()
}

// with returns a good segment of layout l changed by f.
func with(l Layout, f func(b []byte, tr int)) func() []byte {
	return func() []byte {
		b, tr := good(l)
		f(b, tr)
		return b
	}
}

func p32(b []byte, off int, v int32) { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }
func p64(b []byte, off int, v int64) { binary.LittleEndian.PutUint64(b[off:], uint64(v)) }

var hostileSegments = []hostileSegment{
	{"empty.seg", "file size", func() []byte { return nil }},
	{"one-byte.seg", "file size", func() []byte { return []byte{'['} }},
	{"short-287.seg", "file size", func() []byte { b, _ := good(LayoutV30); return b[len(b)-287:] }},
	{"zeros-4096.seg", "magic", func() []byte { return make([]byte, 4096) }},
	{"random-4096.seg", "magic", func() []byte { return pseudoRandom(4096, 7) }},
	{"random-548.seg", "magic", func() []byte { return pseudoRandom(548, 11) }},
	{"magic-wrong-case.seg", "magic", with(LayoutNumPy1, func(b []byte, tr int) { copy(b[tr:], "[sharedarray]") })},
	{"magic-partial.seg", "magic", with(LayoutNumPy1, func(b []byte, tr int) { clear(b[tr+7 : tr+16]) })},
	{"magic-no-nul.seg", "magic", with(LayoutNumPy1, func(b []byte, tr int) { b[tr+13] = ' ' })},
	{"trailer-zeros.seg", "magic", with(LayoutNumPy2, func(b []byte, tr int) { clear(b[tr:]) })},
	{"ndims-negative.292.seg", "ndims", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+32, -1) })},
	{"ndims-minint.548.seg", "ndims", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+32, -1<<31) })},
	{"ndims-33.292.seg", "ndims", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+32, 33) })},
	{"ndims-33.288.seg", "ndims", with(LayoutV30, func(b []byte, tr int) { p32(b, tr+28, 33) })},
	{"ndims-65.548.seg", "ndims", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+32, 65) })},
	{"dim-negative.292.seg", "dims[1]", with(LayoutNumPy1, func(b []byte, tr int) { p64(b, tr+44, -4) })},
	{"dim-negative.288.seg", "dims[0]", with(LayoutV30, func(b []byte, tr int) { p64(b, tr+32, -1<<63) })},
	{"dims-overflow.548.seg", "dims", with(LayoutNumPy2, func(b []byte, tr int) { p64(b, tr+36, 1<<40); p64(b, tr+44, 1<<40) })},
	{"dims-overflow-itemsize.292.seg", "dims", with(LayoutNumPy1, func(b []byte, tr int) { p64(b, tr+36, 1<<61); p64(b, tr+44, 1) })},
	{"size-disagrees.292.seg", "size", with(LayoutNumPy1, func(b []byte, tr int) { p64(b, tr+16, 4096) })},
	{"size-disagrees.288.seg", "size", with(LayoutV30, func(b []byte, tr int) { p64(b, tr+16, 0) })},
	{"data-beyond-file.292.seg", "size", with(LayoutNumPy1, func(b []byte, tr int) { p64(b, tr+36, 1000); p64(b, tr+16, 16000) })},
	{"data-beyond-file.548.seg", "size", with(LayoutNumPy2, func(b []byte, tr int) { p64(b, tr+44, 1<<40); p64(b, tr+16, 12<<40) })},
	{"typenum-unknown.292.seg", "typenum", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+24, 42) })},
	{"typenum-negative.548.seg", "typenum", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+24, -7) })},
	{"typenum-object.292.seg", "typenum", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+24, numObject) })},
	{"typenum-object.288.seg", "typenum", with(LayoutV30, func(b []byte, tr int) { p32(b, tr+24, numObject) })},
	{"typenum-stringdtype.548.seg", "typenum", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+24, numStringDType) })},
	{"itemsize-zero.292.seg", "itemsize", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+28, 0) })},
	{"itemsize-negative.548.seg", "itemsize", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+28, -4) })},
	{"itemsize-inconsistent.292.seg", "itemsize", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+28, 8) })},
	{"itemsize-S0.548.seg", "itemsize", with(LayoutNumPy2, func(b []byte, tr int) { p32(b, tr+24, numBytes); p32(b, tr+28, 0) })},
	{"itemsize-U-odd.292.seg", "itemsize", with(LayoutNumPy1, func(b []byte, tr int) { p32(b, tr+24, numStr); p32(b, tr+28, 6); p64(b, tr+16, 72) })},
	{"v30-S-underivable.288.seg", "size", with(LayoutV30, func(b []byte, tr int) { p32(b, tr+24, numBytes); p64(b, tr+16, 49) })},
	// Both trailers of a dual one bad: the inner one's error is reported.
	{"dual-both-bad.seg", "typenum", with(LayoutDual, func(b []byte, tr int) { p32(b, tr+24, 99); p32(b, tr+256+24, 98) })},
	{"dual-inner-bad-outer-ndims-28.seg", "ndims", with(LayoutDual, func(b []byte, tr int) { p32(b, tr+32, 28); p32(b, tr+256+32, 40) })},
	{"dualv30-both-bad.seg", "typenum", with(LayoutDualV30, func(b []byte, tr int) { p32(b, tr+24, numObject); p32(b, tr+260+24, numObject) })},
	// NumPy's rule: a zero dimension does not hide an overflowing product.
	{"zero-dim-overflow.548.seg", "dims", with(LayoutNumPy2, func(b []byte, tr int) {
		p32(b, tr+32, 3)
		p64(b, tr+36, 0)
		p64(b, tr+44, 1<<62)
		p64(b, tr+52, 1<<62)
		p64(b, tr+16, 0)
	})},
	{"zero-dim-overflow-itemsize.292.seg", "dims", with(LayoutNumPy1, func(b []byte, tr int) {
		p64(b, tr+36, 1<<61) // × 4 bytes = 2^63
		p64(b, tr+44, 0)
		p64(b, tr+16, 0)
	})},
}

func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	for i := range b {
		seed = seed*6364136223846793005 + 1442695040888963407
		b[i] = byte(seed >> 56)
	}
	return b
}

const corpusDir = "testdata/hostile"

// TestHostileCorpusFiles keeps testdata/hostile equal to hostileSegments;
// run with -update-corpus after changing the table.
func TestHostileCorpusFiles(t *testing.T) {
	t.Parallel()
	assert.Assert(t, len(hostileSegments) >= 30)
	files := make([]corpusFile, len(hostileSegments))
	for i, h := range hostileSegments {
		files[i] = corpusFile{h.file, h.make, h.field}
	}
	checkCorpus(t, corpusDir, "# file\tfield Attach must name (generated by hostile_test.go)", "TestHostileCorpusFiles", files)
}

// corpusFile is one file of a generated test corpus: its name, its recipe,
// and what its MANIFEST line says about it.
type corpusFile struct {
	name string
	make func() []byte
	note string
}

// checkCorpus asserts that dir holds exactly files (and MANIFEST), each
// equal to its recipe; with -update-corpus it first rewrites dir from the
// recipes, with a MANIFEST of header and one "name<TAB>note" line a file.
// test is the test to rerun with -update-corpus when a file is missing.
func checkCorpus(t *testing.T, dir, header, test string, files []corpusFile) {
	t.Helper()
	if *updateCorpus {
		assert.NilError(t, os.RemoveAll(dir))
		assert.NilError(t, os.MkdirAll(dir, 0o755))
		var manifest strings.Builder
		manifest.WriteString(header + "\n")
		for _, f := range files {
			assert.NilError(t, os.WriteFile(filepath.Join(dir, f.name), f.make(), 0o644))
			manifest.WriteString(f.name + "\t" + f.note + "\n")
		}
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte(manifest.String()), 0o644))
	}
	var names []string
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f.name))
		assert.NilError(t, err, "run go test -run "+test+" -update-corpus")
		assert.Assert(t, bytes.Equal(got, f.make()), "%s differs from its recipe", f.name)
		names = append(names, f.name)
	}
	ents, err := os.ReadDir(dir)
	assert.NilError(t, err)
	for _, e := range ents {
		assert.Assert(t, e.Name() == "MANIFEST" || slices.Contains(names, e.Name()), "stray corpus file %s", e.Name())
	}
}

// TestHostileSegments: for each bad segment, Attach, Stat and Delete return
// a FormatError naming the field, the file stays, and List skips it while
// still listing a good array beside it.
func TestHostileSegments(t *testing.T) {
	goodName := testName(t)
	mustCreate(t, goodName, []int{2}, Float64)
	var placed []string
	for _, h := range hostileSegments {
		name := testName(t)
		data, err := os.ReadFile(filepath.Join(corpusDir, h.file))
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(shmDir+"/"+name, data, 0o644))
		placed = append(placed, name)
		for _, op := range []struct {
			label string
			f     func() error
		}{
			{"attach", func() error { _, err := Attach(name); return err }},
			{"attach-ro", func() error { _, err := Attach(name, ReadOnly()); return err }},
			{"stat", func() error { _, err := Stat(name); return err }},
			{"delete", func() error { return Delete(name) }},
		} {
			err := op.f()
			var fe *FormatError
			assert.Assert(t, errors.As(err, &fe), "%s %s: %v", op.label, h.file, err)
			assert.Equal(t, fe.Field, h.field, "%s %s: %v", op.label, h.file, err)
			assert.Assert(t, errors.Is(err, ErrFormat))
			assert.Equal(t, fe.Name, name)
		}
		_, err = os.Stat(shmDir + "/" + name)
		assert.NilError(t, err, "%s: Delete must leave it", h.file)
	}
	infos, err := List()
	assert.NilError(t, err)
	var listed []string
	for _, in := range infos {
		listed = append(listed, in.Name)
	}
	assert.Assert(t, slices.Contains(listed, goodName))
	for _, n := range placed {
		assert.Assert(t, !slices.Contains(listed, n), "List shows bad segment %s", n)
	}
	// A file:// copy behaves the same.
	dir := t.TempDir()
	for _, h := range hostileSegments {
		path := filepath.Join(dir, h.file)
		data, _ := os.ReadFile(filepath.Join(corpusDir, h.file))
		assert.NilError(t, os.WriteFile(path, data, 0o644))
		_, err := Attach("file://" + path)
		var fe *FormatError
		assert.Assert(t, errors.As(err, &fe) && fe.Field == h.field, "%s: %v", h.file, err)
	}
	_, err = Attach("file://" + dir) // a directory: EISDIR from open
	assert.Assert(t, err != nil)
	_, err = Attach("file://"+dir, ReadOnly()) // opens, then is not a regular file
	assert.Assert(t, errors.Is(err, ErrFormat) || errors.Is(err, syscall.EISDIR), "%v", err)
}
