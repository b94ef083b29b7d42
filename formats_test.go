package sharedarray

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sharedarray/sharedarray/internal/testutil"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// plantings returns, for a file of layout l and data size n, the ways
// array data can imitate a longer trailer: the magic alone, the start of
// a valid 548-byte trailer for another array, and the start of one that
// agrees with the real one (which makes a dual trailer).
func plantings(l Layout, m meta) map[string][]byte {
	other := meta{dtype: Float64, shape: []int{3}, nbytes: 24}
	t := l.TrailerSize()
	head := func(x meta) []byte { return encodeTrailer(LayoutNumPy2, x)[:548-t] }
	return map[string][]byte{
		"magic":    magic[:magicLen],
		"other":    head(other),
		"agreeing": head(m),
	}
}

// A valid 288- or 292-byte trailer is never lost to "[SharedArray]\0"
// planted in the data where a 548-byte trailer would start.
func TestTrailerPlantedMagic(t *testing.T) {
	t.Parallel()
	m := meta{dtype: Uint8, shape: []int{4096}, nbytes: 4096}
	for _, l := range layouts() {
		for what, plant := range plantings(l, m) {
			file := segmentBytes(l, m)
			off := len(file) - maxTrailer
			if int64(off+len(plant)) > m.nbytes {
				continue // the 548 trailer is the real one: no data there
			}
			copy(file[off:], plant)
			got, err := decodeFile(file)
			assert.NilError(t, err, "%s %s", l, what)
			assert.Equal(t, got.dtype, Uint8)
			assert.DeepEqual(t, got.shape, []int{4096})
			// Even the "agreeing" 548 trailer cannot form a dual one: its
			// data would overlap it.
			assert.Equal(t, got.layout, l, "%s %s", l, what)
		}
	}
	// The other way round: a 292 magic inside a 548 trailer's unused dims
	// slots does not hide the 548 trailer.
	file := segmentBytes(LayoutNumPy2, m)
	copy(file[len(file)-292:], magic[:magicLen])
	got, err := decodeFile(file)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy2)
}

// A dual trailer whose halves disagree is read as its valid shorter
// trailer (the 548 bytes may be data); one whose inner trailer is bad is
// read as a plain 548 one.
func TestTrailerDualFallbacks(t *testing.T) {
	t.Parallel()
	m := meta{dtype: Int32, shape: []int{3, 4}, nbytes: 48}
	b := segmentBytes(LayoutDual, m)
	tr := len(b) - 548
	p64(b, tr+36, 1)
	p64(b, tr+16, 16)
	got, err := decodeFile(b)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy1)
	assert.DeepEqual(t, got.shape, []int{3, 4})

	b = segmentBytes(LayoutDual, m)
	p32(b, tr+256+32, 40) // inner ndims out of range
	got, err = decodeFile(b)
	assert.NilError(t, err)
	assert.Equal(t, got.layout, LayoutNumPy2)
	assert.DeepEqual(t, got.shape, []int{3, 4})
}

// Real segments of every layout with the plantings in their data: Attach,
// Stat, List and Delete all see the array.
func TestPlantedMagicSegments(t *testing.T) {
	for _, l := range layouts() {
		for what, plant := range plantings(l, meta{dtype: Uint8, shape: []int{4096}, nbytes: 4096}) {
			name := testName(t)
			a := mustCreate(t, name, []int{4096}, Uint8, WithLayout(l))
			off := 4096 + l.TrailerSize() - maxTrailer
			if off+len(plant) > 4096 {
				continue
			}
			copy(a.Bytes()[off:], plant)
			b, err := Attach(name)
			assert.NilError(t, err, "%s %s", l, what)
			assert.DeepEqual(t, b.Shape(), []int{4096})
			b.Close()
			info, err := Stat(name)
			assert.NilError(t, err)
			assert.Equal(t, info.Dtype, Uint8)
			infos, err := List()
			assert.NilError(t, err)
			assert.Assert(t, slices.ContainsFunc(infos, func(i Info) bool { return i.Name == name }), "%s %s: List hides it", l, what)
			assert.NilError(t, Delete(name))
		}
	}
}

// NumPy's rule on shapes, wherever a shape enters: itemsize × the
// product of the non-zero dims must fit in int64.
func TestZeroDimOverflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		shape   []int
		dt      Dtype
		ok      bool
		strides []int
	}{
		{[]int{0, 1 << 62, 1 << 62}, Float64, false, nil},
		{[]int{0, 1 << 60, 8}, Int8, false, nil}, // 2^63
		{[]int{0, 1<<60 - 1, 8}, Int8, true, []int{(1<<60 - 1) * 8, 8, 1}},
		{[]int{0, math.MaxInt64}, Int8, true, []int{math.MaxInt64, 1}},
		{[]int{0, math.MaxInt64}, Int16, false, nil},
		{[]int{1 << 61, 0}, Int32, false, nil},
		{[]int{3, 0, 4}, Float64, true, []int{32, 32, 8}},
	} {
		_, err := dataBytes(int64(tc.dt.size()), tc.shape)
		assert.Equal(t, err == nil, tc.ok, "%v %s: %v", tc.shape, tc.dt, err)
		name := testName(t)
		a, err := Create(name, tc.shape, tc.dt)
		if !tc.ok {
			assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
			assert.ErrorContains(t, err, "array is too big")
			_, serr := os.Stat(shmDir + "/" + name)
			assert.Assert(t, errors.Is(serr, os.ErrNotExist))
			// The .npy header is refused too.
			dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", tc.dt, shapeTuple(tc.shape))
			_, err = LoadNPYFrom(testName(t), bytes.NewReader(npyFile(dict, nil)))
			assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
			continue
		}
		assert.NilError(t, err)
		assert.DeepEqual(t, a.Strides(), tc.strides)
		info, err := Stat(name)
		assert.NilError(t, err)
		assert.DeepEqual(t, info.Strides, tc.strides)
		assert.Equal(t, a.Len(), 0)
		a.Close()
	}
	a := mustCreate(t, testName(t), []int{3, 4}, Float64)
	assert.DeepEqual(t, a.Strides(), []int{32, 8})
}

func shapeTuple(shape []int) string {
	var b strings.Builder
	for _, d := range shape {
		fmt.Fprintf(&b, "%d,", d)
	}
	return b.String()
}

// Shapes whose data fits in int64 but not with the trailer are "too big",
// not a bare EINVAL from the kernel.
func TestCreateTooBig(t *testing.T) {
	t.Parallel()
	for _, shape := range [][]int{{math.MaxInt64}, {math.MaxInt64 - 100}} {
		_, err := Create("file://"+filepath.Join(t.TempDir(), "x"), shape, Int8, Sparse())
		assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
		assert.ErrorContains(t, err, "too big")
	}
}

// Sized dtypes never wrap: ParseDtype refuses sizes past 32 bits, and
// out-of-range sizes inside the package give an invalid Dtype that Create
// refuses.
func TestDtypeSizeOverflow(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"U536870912", "S2147483648", "V2147483648", "a9223372036854775807", "U4611686018427387905", "S99999999999999999999"} {
		_, err := ParseDtype(s)
		assert.ErrorIs(t, err, ErrDtype, s)
	}
	for _, s := range []string{"U536870911", "S2147483647", "V2147483647"} {
		_, err := ParseDtype(s)
		assert.NilError(t, err, s)
	}
	for _, d := range []Dtype{strDtype(1<<62 + 1), strDtype(-1), strDtype(math.MaxInt32/4 + 1), bytesDtype(1 << 31), bytesDtype(-5), voidDtype(math.MaxInt), bytesDtype(0), strDtype(0)} {
		assert.Assert(t, errors.Is(d.valid(), ErrDtype), "%v", d)
		_, err := Create(testName(t), []int{1}, d)
		assert.Assert(t, errors.Is(err, ErrDtype), "%v", err)
	}
	assert.Equal(t, strDtype(math.MaxInt32/4).ItemSize(), math.MaxInt32/4*4)
	assert.NilError(t, strDtype(math.MaxInt32/4).valid())
	assert.NilError(t, bytesDtype(math.MaxInt32).valid())
}

// Only .npy versions 1.0, 2.0 and 3.0 load, as in NumPy.
func TestLoadNPYMinorVersion(t *testing.T) {
	t.Parallel()
	for _, v := range [][2]byte{{1, 1}, {1, 255}, {2, 1}, {3, 1}, {0, 0}, {4, 0}} {
		file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))
		file[6], file[7] = v[0], v[1]
		_, err := LoadNPYFrom(testName(t), bytes.NewReader(file))
		assert.Assert(t, errors.Is(err, ErrNPY), "%v: %v", v, err)
		assert.ErrorContains(t, err, fmt.Sprintf("version %d.%d", v[0], v[1]))
	}
}

// ReadOnly is refused by LoadNPYFrom as by Create; import errors say
// "import".
func TestLoadNPYOptionsAndLabels(t *testing.T) {
	t.Parallel()
	file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))
	name := testName(t)
	_, err := LoadNPYFrom(name, bytes.NewReader(file), ReadOnly())
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = os.Stat(shmDir + "/" + name)
	assert.Assert(t, errors.Is(err, os.ErrNotExist))
	// A data error from the stream (not a header error).
	_, err = LoadNPYFrom(testName(t), io.MultiReader(bytes.NewReader(file[:len(file)-8]), errReader{}))
	assert.ErrorContains(t, err, "import ")
	assert.Assert(t, !strings.Contains(err.Error(), "create"), "%v", err)
	assert.Assert(t, errors.Is(err, syscall.EIO), "%v", err)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, syscall.EIO }

// When the O_TMPFILE segment cannot be linked (no /proc), the fallback
// builds the named segment from the data already read: the source is
// read once.
func TestCreateFallbackReadsSourceOnce(t *testing.T) {
	t.Parallel()
	old := linkFdFunc
	linkFdFunc = func(int, string, string) error { return syscall.ENOENT }
	t.Cleanup(func() { linkFdFunc = old })
	data := make([]byte, 3*8)
	for i := range data {
		data[i] = byte(i + 1)
	}
	file := npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data)
	r := &countingReader{r: bytes.NewReader(file)}
	a, err := LoadNPYFrom(testName(t), io.Reader(r)) // hide Len: a stream
	assert.NilError(t, err)
	defer a.Close()
	assert.DeepEqual(t, a.Bytes(), data)
	assert.Equal(t, r.n, int64(len(file)))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// tmpfsUsed returns the bytes in use on the file system holding dir.
func tmpfsUsed(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	assert.NilError(t, syscall.Statfs(dir, &st))
	return int64(st.Blocks-st.Bfree) * int64(st.Bsize)
}

// A tiny .npy whose header claims a big array: from a file (or any
// source that knows its size) it is refused before anything is reserved;
// from a stream, no more than what arrived plus one chunk is reserved.
func TestLoadNPYShortSourceReservesNothing(t *testing.T) {
	dir := testutil.MountTmpfs(t, 64<<20)
	claim := "{'descr': '<f8', 'fortran_order': False, 'shape': (6291456,), }" // 48 MiB
	file := npyFile(claim, make([]byte, 128))
	src := filepath.Join(t.TempDir(), "short.npy")
	assert.NilError(t, os.WriteFile(src, file, 0o644))
	target := "file://" + filepath.Join(dir, "a")

	// A file: refused from its size, before reserving (the old code
	// reserved the 48 MiB, filled them and then failed).
	_, err := LoadNPY(target, src)
	assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
	assert.ErrorContains(t, err, "data section is 128 bytes")
	_, err = LoadNPYFrom(target, bytes.NewReader(file))
	assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
	f, err := os.Open(src)
	assert.NilError(t, err)
	defer f.Close()
	_, err = LoadNPYFrom(target, io.NewSectionReader(f, 0, int64(len(file)))) // a Seeker
	assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)

	// A stream (no size): at the moment the stream ends, at most one
	// chunk and a little more is in use on the file system.
	for _, fortran := range []string{"False", "True"} {
		claim := "{'descr': '<f8', 'fortran_order': " + fortran + ", 'shape': (2048, 3072), }"
		base := tmpfsUsed(t, dir)
		peak := int64(-1)
		r := io.MultiReader(bytes.NewReader(npyFile(claim, make([]byte, 128))), readerFunc(func([]byte) (int, error) {
			peak = tmpfsUsed(t, dir) - base
			return 0, io.EOF
		}))
		_, err = LoadNPYFrom(target, r)
		assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
		assert.Assert(t, peak >= 0 && peak <= importChunk+1<<20, "fortran %s: %d bytes reserved for 128 arriving", fortran, peak)
		ents, _ := os.ReadDir(dir)
		assert.Equal(t, len(ents), 0)
	}

	// A stream that is whole imports, chunk by chunk.
	data := make([]byte, 3*importChunk+8)
	for i := range data {
		data[i] = byte(i * 7)
	}
	whole := npyFile(fmt.Sprintf("{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }", len(data)), data)
	a, err := LoadNPYFrom(target, io.MultiReader(bytes.NewReader(whole)))
	assert.NilError(t, err)
	assert.Assert(t, bytes.Equal(a.Bytes(), data))
	a.Close()
	assert.NilError(t, Delete(target))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// The memory check applies to imports in every mode, Sparse included: a
// tiny stream claiming 1 TiB into shm is refused up front.
func TestLoadNPYMemoryCheckSparse(t *testing.T) {
	t.Parallel()
	file := npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }", make([]byte, 64))
	for _, opts := range [][]Option{nil, {Sparse()}} {
		name := testName(t)
		_, err := LoadNPYFrom(name, io.MultiReader(bytes.NewReader(file)), opts...)
		var se *SpaceError // no machine here has 1 TiB of memory or /dev/shm
		assert.Assert(t, errors.As(err, &se), "%v", err)
		_, err = os.Stat(shmDir + "/" + name)
		assert.Assert(t, errors.Is(err, os.ErrNotExist))
	}
}

// SaveNPY never destroys the previous snapshot: a failed export (a full
// file system, a closed array) leaves it whole and leaves nothing behind;
// errors name the user's path.
func TestSaveNPYFailureKeepsSnapshot(t *testing.T) {
	// Not parallel: it measures a 1 MiB tmpfs's free space, and a test
	// starting a process in parallel holds a copy of every descriptor
	// between fork and exec, which keeps a failed export's unlinked file
	// (and its space) alive for that moment (seen: ENOSPC for the next,
	// small file).
	dir := testutil.MountTmpfs(t, 1<<20)
	path := filepath.Join(dir, "snap.npy")
	small := mustCreate(t, testName(t), []int{100}, Uint8)
	small.Bytes()[0] = 42
	assert.NilError(t, small.SaveNPY(path, Fsync()))
	before, err := os.ReadFile(path)
	assert.NilError(t, err)

	big := mustCreate(t, testName(t), []int{2 << 20}, Uint8)
	err = big.SaveNPY(path)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	assert.ErrorContains(t, err, path)
	assert.Assert(t, !strings.Contains(err.Error(), ".tmp"), "%v", err)
	after, _ := os.ReadFile(path)
	assert.DeepEqual(t, after, before)

	closed := mustCreate(t, testName(t), []int{10}, Uint8)
	closed.Close()
	err = closed.SaveNPY(path)
	assert.Assert(t, errors.Is(err, ErrClosed), "%v", err)
	after, _ = os.ReadFile(path)
	assert.DeepEqual(t, after, before)
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 1, "only the snapshot: %v", ents)

	// The named fallback (no O_TMPFILE) leaves nothing behind either.
	err = big.saveNPY(path, options{}, true)
	assert.Assert(t, errors.Is(err, syscall.ENOSPC), "%v", err)
	ents, _ = os.ReadDir(dir)
	assert.Equal(t, len(ents), 1, "only the snapshot: %v", ents)
	assert.NilError(t, small.saveNPY(filepath.Join(dir, "named.npy"), options{}, true))
	b, err := LoadNPY(testName(t), filepath.Join(dir, "named.npy"))
	assert.NilError(t, err)
	assert.Equal(t, b.Bytes()[0], byte(42))
	b.Close()

	_, err = os.Stat(filepath.Join(dir, "missing"))
	assert.Assert(t, os.IsNotExist(err))
	err = small.SaveNPY(filepath.Join(dir, "missing", "x.npy"))
	assert.Assert(t, errors.Is(err, os.ErrNotExist), "%v", err)
	assert.ErrorContains(t, err, filepath.Join(dir, "missing", "x.npy"))
}

// SaveNPY to a symbolic link is refused; a planted NAME.partial symlink
// is never followed.
func TestSaveNPYSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := mustCreate(t, testName(t), []int{8}, Uint8)
	victim := filepath.Join(dir, "victim")
	assert.NilError(t, os.WriteFile(victim, []byte("keep"), 0o644))
	link := filepath.Join(dir, "link.npy")
	assert.NilError(t, os.Symlink(victim, link))
	assert.Assert(t, errors.Is(a.SaveNPY(dir), syscall.EISDIR))
	err := a.SaveNPY(link)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	assert.ErrorContains(t, err, "symbolic link")
	assert.ErrorContains(t, err, link)
	path := filepath.Join(dir, "x.npy")
	assert.NilError(t, os.Symlink(victim, path+".partial"))
	assert.NilError(t, a.SaveNPY(path))
	assert.NilError(t, a.saveNPY(path, options{}, true))
	got, _ := os.ReadFile(victim)
	assert.Equal(t, string(got), "keep")
	fi, err := os.Lstat(path)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode().IsRegular())
}

// Concurrent SaveNPY calls to one path: a reader always finds one whole
// array, never a mix.
func TestSaveNPYConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.npy")
	const n = 1 << 20
	arrays := make([]*Array, 2)
	for i := range arrays {
		arrays[i] = mustCreate(t, testName(t), []int{n}, Uint8)
		for j := range arrays[i].Bytes() {
			arrays[i].Bytes()[j] = byte(i + 1)
		}
	}
	done := make(chan error, 2)
	for i := range arrays {
		go func() {
			for range 20 {
				if err := arrays[i].SaveNPY(path); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	check := func() {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		assert.NilError(t, err)
		hl := len(npyHeader(Uint8, []int{n}))
		assert.Equal(t, len(b), hl+n)
		want := b[hl]
		assert.Assert(t, want == 1 || want == 2)
		assert.Assert(t, bytes.Count(b[hl:], []byte{want}) == n, "a mixed file")
	}
	for finished := 0; finished < 2; {
		select {
		case err := <-done:
			assert.NilError(t, err)
			finished++
		default:
			check()
		}
	}
	check()
	ents, _ := os.ReadDir(filepath.Dir(path))
	assert.Equal(t, len(ents), 1)
}

// A tiny hostile file: a valid trailer for 48 bytes of data at the end of
// a sparse 1 TiB file. Attach with Prefault, read-only or not, populates
// only the data the file holds: nothing is allocated on the file system
// (a 4 MiB tmpfs), by the attach or by an export. Attach with Prefault
// allocates nothing either for a trailer claiming 2 MiB of data that is
// all hole.
func TestAttachSparseSlackAllocatesNothing(t *testing.T) {
	dir := testutil.MountTmpfs(t, 4<<20)
	for _, tc := range []struct {
		label  string
		nbytes int64
		size   int64
	}{
		{"1TiB-slack", 48, 1 << 40},
		{"hole-data", 2 << 20, 2<<20 + 292},
	} {
		if len(emulator) > 0 && tc.size > 1<<36 {
			// qemu-user refuses to map 1 TiB (ENOMEM); an arm64 kernel with
			// 39-bit addresses (512 GiB) would too, as an error.
			t.Logf("%s: skipped under %s, which cannot map %d bytes", tc.label, emulator[0], tc.size)
			continue
		}
		path := filepath.Join(dir, tc.label)
		m := meta{dtype: Uint8, shape: []int{int(tc.nbytes)}, nbytes: tc.nbytes}
		f, err := os.Create(path)
		assert.NilError(t, err)
		assert.NilError(t, f.Truncate(tc.size))
		_, err = f.WriteAt(encodeTrailer(LayoutNumPy1, m), tc.size-292)
		assert.NilError(t, err)
		assert.NilError(t, f.Close())
		base := tmpfsUsed(t, dir)
		for _, opts := range [][]Option{{ReadOnly(), Prefault()}, {Prefault()}, {ReadOnly()}} {
			a, err := Attach("file://"+path, opts...)
			assert.NilError(t, err, tc.label)
			assert.Equal(t, a.Len(), int(tc.nbytes))
			if tc.nbytes <= 4096 {
				// Mlock populates what it locks: the data only.
				assert.NilError(t, a.Mlock())
				assert.NilError(t, a.Munlock())
			}
			used := tmpfsUsed(t, dir) - base
			assert.Assert(t, used <= 8192, "%s %d options: %d bytes allocated", tc.label, len(opts), used)
			if tc.nbytes <= 4096 {
				// An export reads the data only, never the slack. (Reading
				// holes in the data through the mapping would allocate
				// them: tmpfs fills a read fault with a new page.)
				var buf bytes.Buffer
				_, err = a.WriteNPY(&buf)
				assert.NilError(t, err)
				_, err = a.ReadAt(make([]byte, 4096), 0) // more than the data: io.EOF after it
				if err != io.EOF {
					assert.NilError(t, err)
				}
				used = tmpfsUsed(t, dir) - base
				assert.Assert(t, used <= 8192, "%s after export: %d bytes allocated", tc.label, used)
			}
			a.Close()
		}
		os.Remove(path)
	}
}

// A process killed in the middle of SaveNPY leaves the previous snapshot
// and no other file.
func TestSaveNPYKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.npy")
	assert.NilError(t, os.WriteFile(path, []byte("previous"), 0o644))
	name := testName(t)
	cmd := child("formats save-and-hang " + name + " " + path)
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	line := make([]byte, 8)
	_, err = io.ReadFull(out, line)
	assert.NilError(t, err, "the child did not start writing")
	assert.NilError(t, cmd.Process.Kill())
	cmd.Wait()
	got, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "previous")
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 1, "%v", ents)
}

// A source file truncated by another process after its size was checked:
// the import fails with ErrNPY and leaves nothing.
func TestLoadNPYSourceTruncated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.npy")
	data := make([]byte, 1<<20)
	assert.NilError(t, os.WriteFile(path, npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (1048576,), }", data), 0o644))
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	name := testName(t)
	_, err = LoadNPYFrom(name, &truncatingFile{File: f})
	assert.Assert(t, errors.Is(err, ErrNPY), "%v", err)
	_, serr := os.Stat(shmDir + "/" + name)
	assert.Assert(t, errors.Is(serr, os.ErrNotExist))
}

// truncatingFile truncates its file to 4 KiB at the first read after the
// header.
type truncatingFile struct {
	*os.File
	reads int
}

func (t *truncatingFile) Read(b []byte) (int, error) {
	if t.reads++; t.reads == 4 { // magic+version, header length, header, data
		os.Truncate(t.Name(), 4096)
	}
	return t.File.Read(b)
}

// A symlink planted at the target while SaveNPY runs is caught by the
// check before the rename: SaveNPY fails, link and target untouched, and
// no temporary file is left.
func TestSaveNPYSymlinkAppearsMidway(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	assert.NilError(t, os.WriteFile(victim, []byte("keep"), 0o644))
	path := filepath.Join(dir, "x.npy")
	a := mustCreate(t, testName(t), []int{1 << 20}, Uint8)
	planted := false
	err := a.SaveNPY(path, OnProgress(func(int64) {
		if !planted {
			planted = true
			assert.NilError(t, os.Symlink(victim, path))
		}
	}))
	assert.Assert(t, planted)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	assert.ErrorContains(t, err, path)
	got, _ := os.ReadFile(victim)
	assert.Equal(t, string(got), "keep")
	fi, err := os.Lstat(path)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode()&fs.ModeSymlink != 0)
	entries, _ := os.ReadDir(dir)
	assert.Equal(t, len(entries), 2, "%v", entries)
}

// SaveNPY replaces only regular files: a FIFO, a socket, a device node
// and the array's own file are refused and left as they were, whether
// they are there when SaveNPY starts or appear at path while it writes
// (the check right before the rename).
func TestSaveNPYNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := mustCreate(t, testName(t), []int{1 << 20}, Uint8)
	makers := map[string]func(path string) error{
		"fifo": func(path string) error { return syscall.Mkfifo(path, 0o600) },
		"socket": func(path string) error {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer syscall.Close(fd)
			return syscall.Bind(fd, &syscall.SockaddrUnix{Name: path})
		},
		"chardev": func(path string) error {
			return syscall.Mknod(path, syscall.S_IFCHR|0o600, int(unix.Mkdev(1, 3))) // /dev/null's numbers
		},
	}
	if os.Geteuid() != 0 {
		delete(makers, "chardev") // mknod needs CAP_MKNOD
	}
	for kind, mk := range makers {
		for _, midway := range []bool{false, true} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%v", kind, midway))
			var opts []Option
			if midway {
				made := false
				opts = append(opts, OnProgress(func(int64) {
					if !made {
						made = true
						if err := mk(path); err != nil {
							t.Errorf("%s: %v", kind, err)
						}
					}
				}))
			} else if err := mk(path); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			err := a.SaveNPY(path, opts...)
			assert.Assert(t, errors.Is(err, ErrInvalid), "%s midway=%v: %v", kind, midway, err)
			assert.ErrorContains(t, err, "not a regular file")
			assert.ErrorContains(t, err, path)
			fi, lerr := os.Lstat(path)
			assert.NilError(t, lerr)
			assert.Assert(t, !fi.Mode().IsRegular(), "%s midway=%v replaced", kind, midway)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		assert.Assert(t, !strings.HasSuffix(e.Name(), ".tmp"), "left %s", e.Name())
	}

	own := filepath.Join(dir, "own.dat")
	f := mustCreate(t, "file://"+own, []int{4}, Int32)
	before, err := os.ReadFile(own)
	assert.NilError(t, err)
	err = f.SaveNPY(own)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	assert.ErrorContains(t, err, "array's own file")
	after, err := os.ReadFile(own)
	assert.NilError(t, err)
	assert.DeepEqual(t, after, before)
}

// SaveNPY's new file has mode 0666 before the umask, whatever the old
// file had; OnProgress counts up to the file size.
func TestSaveNPYModeAndProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	assert.NilError(t, os.WriteFile(path, []byte("old"), 0o600))
	a := mustCreate(t, testName(t), []int{3 << 20}, Uint8)
	var last int64
	calls := 0
	assert.NilError(t, a.SaveNPY(path, OnProgress(func(n int64) {
		assert.Assert(t, n > last)
		last = n
		calls++
	})))
	fi, err := os.Stat(path)
	assert.NilError(t, err)
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	assert.Equal(t, fi.Mode().Perm(), os.FileMode(0o666&^umask))
	assert.Equal(t, last, fi.Size())
	assert.Assert(t, calls >= 2)
}

// A Fortran-order stream larger than a chunk imports the same array as
// the same bytes from a sized source.
func TestLoadNPYFortranStream(t *testing.T) {
	t.Parallel()
	rows, cols := 1024, 1100 // 8.6 MiB of float64: more than two chunks
	data := make([]byte, rows*cols*8)
	for i := range data {
		data[i] = byte(i*13 + i/8)
	}
	file := npyFile(fmt.Sprintf("{'descr': '<f8', 'fortran_order': True, 'shape': (%d, %d), }", rows, cols), data)
	a, err := LoadNPYFrom(testName(t), bytes.NewReader(file))
	assert.NilError(t, err)
	defer a.Close()
	b, err := LoadNPYFrom(testName(t), io.MultiReader(bytes.NewReader(file)))
	assert.NilError(t, err)
	defer b.Close()
	assert.Assert(t, bytes.Equal(a.Bytes(), b.Bytes()))
	// Element (r, c) is at r*cols+c in C order, c*rows+r in the file.
	r, c := 5, 1000
	assert.DeepEqual(t, a.Bytes()[(r*cols+c)*8:][:8], data[(c*rows+r)*8:][:8])
}
