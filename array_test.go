package sharedarray

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/sharedarray/sharedarray/numtype"
	"gotest.tools/v3/assert"
)

func mustCreate(t *testing.T, name string, shape []int, dt Dtype, opts ...Option) *Array {
	t.Helper()
	a, err := Create(name, shape, dt, opts...)
	assert.NilError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

func TestCreateAttachRoundTrip(t *testing.T) {
	name := "shm://" + testName(t)
	a := mustCreate(t, name, []int{3, 4}, Float64)
	assert.Equal(t, a.Name(), name)
	assert.DeepEqual(t, a.Shape(), []int{3, 4})
	assert.DeepEqual(t, a.Strides(), []int{32, 8})
	assert.Equal(t, a.Len(), 12)
	assert.Equal(t, a.ndim(), 2)
	assert.Equal(t, a.Dtype(), Float64)
	assert.Equal(t, a.Layout(), LayoutDual)
	assert.Assert(t, a.Writable())
	assert.Equal(t, len(a.Bytes()), 96)
	assert.Equal(t, uintptr(unsafe.Pointer(&a.Bytes()[0]))%uintptr(os.Getpagesize()), uintptr(0), "data is page-aligned")
	for _, b := range a.Bytes() {
		assert.Equal(t, b, byte(0))
	}
	v, err := View[float64](a)
	assert.NilError(t, err)
	for i := range v {
		v[i] = float64(i) + 0.5
	}

	b, err := Attach(name[len("shm://"):])
	assert.NilError(t, err)
	defer b.Close()
	w, err := View[float64](b)
	assert.NilError(t, err)
	assert.DeepEqual(t, w, v)
	w[11] = -1
	assert.Equal(t, v[11], -1.0, "both mappings share memory")

	st, err := os.Stat(shmDir + "/" + name[len("shm://"):])
	assert.NilError(t, err)
	assert.Equal(t, st.Size(), int64(96+548))
}

func TestCreateLayouts(t *testing.T) {
	t.Parallel()
	for _, l := range layouts() {
		t.Run(l.String(), func(t *testing.T) {
			name := testName(t)
			a := mustCreate(t, name, []int{2, 5}, Int16, WithLayout(l))
			st, err := os.Stat(shmDir + "/" + name)
			assert.NilError(t, err)
			assert.Equal(t, st.Size(), int64(20+l.TrailerSize()))
			b, err := Attach(name, WithLayout(l))
			assert.NilError(t, err)
			defer b.Close()
			assert.Equal(t, b.Layout(), l)
			assert.DeepEqual(t, b.Shape(), []int{2, 5})
			a.Close()
		})
	}
}

func TestCreateDefaultLayout(t *testing.T) {
	t.Parallel()
	shape := make([]int, 28)
	for i := range shape {
		shape[i] = 1
	}
	a := mustCreate(t, testName(t), shape, Uint8)
	assert.Equal(t, a.Layout(), LayoutNumPy2)
	b := mustCreate(t, testName(t), shape[:27], Uint8)
	assert.Equal(t, b.Layout(), LayoutDual)
	_, err := Create(testName(t), make([]int, 65), Uint8)
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = Create(testName(t), shape, Uint8, WithLayout(LayoutDual))
	assert.Assert(t, errors.Is(err, ErrInvalid), "%v", err)
	_, err = Create(testName(t), []int{2}, bytesDtype(3), WithLayout(LayoutV30))
	assert.Assert(t, errors.Is(err, ErrDtype), "%v", err)
}

func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		shape []int
		dt    Dtype
		opts  []Option
		want  error
	}{
		{"negative dim", []int{2, -1}, Float64, nil, ErrInvalid},
		{"overflow", []int{1 << 40, 1 << 40}, Float64, nil, ErrInvalid},
		{"object", []int{2}, makeDtype(numObject, 8), nil, ErrDtype},
		{"S0", []int{2}, bytesDtype(0), nil, ErrDtype},
		{"read-only create", []int{2}, Float64, []Option{ReadOnly()}, ErrInvalid},
		{"bad layout", []int{2}, Float64, []Option{WithLayout(9)}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := testName(t)
			_, err := Create(name, tc.shape, tc.dt, tc.opts...)
			assert.Assert(t, errors.Is(err, tc.want), "%v", err)
			_, err = os.Stat(shmDir + "/" + name)
			assert.Assert(t, errors.Is(err, fs.ErrNotExist), "nothing left behind")
		})
	}
	_, err := Create("a/b", []int{1}, Float64)
	var pe *fs.PathError
	assert.Assert(t, errors.As(err, &pe))
	assert.Equal(t, pe.Op, "create")
	assert.Assert(t, errors.Is(err, ErrInvalid))
}

func TestCreateExists(t *testing.T) {
	t.Parallel()
	name := testName(t)
	mustCreate(t, name, []int{4}, Int32)
	_, err := Create(name, []int{8}, Float64)
	assert.Assert(t, errors.Is(err, fs.ErrExist), "%v", err)
	assert.Assert(t, errors.Is(err, ErrExist))
	b, err := Attach(name)
	assert.NilError(t, err)
	defer b.Close()
	assert.Equal(t, b.Dtype(), Int32, "the first array is untouched")
}

func TestAttachMissing(t *testing.T) {
	t.Parallel()
	_, err := Attach(testName(t))
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	assert.Assert(t, errors.Is(Delete(testName(t)), fs.ErrNotExist))
	_, err = Attach("file://" + filepath.Join(t.TempDir(), "none"))
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
}

func TestZeroDimAndEmpty(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, testName(t), nil, Complex128)
	assert.Equal(t, a.Len(), 1)
	assert.Equal(t, len(a.Bytes()), 16)
	v, err := View[complex128](a)
	assert.NilError(t, err)
	v[0] = 1 + 2i
	b, err := Attach(a.Name())
	assert.NilError(t, err)
	defer b.Close()
	w, _ := View[complex128](b)
	assert.Equal(t, w[0], 1+2i)
	assert.DeepEqual(t, b.Shape(), []int{})

	e := mustCreate(t, testName(t), []int{3, 0}, Float32)
	assert.Equal(t, e.Len(), 0)
	assert.Equal(t, len(e.Bytes()), 0)
	ev, err := View[float32](e)
	assert.NilError(t, err)
	assert.Equal(t, len(ev), 0)
}

func TestViewTypes(t *testing.T) {
	t.Parallel()
	type celsius float64
	check := func(ok bool, err error) {
		t.Helper()
		if ok {
			assert.NilError(t, err)
		} else {
			assert.Assert(t, errors.Is(err, ErrDtype), "%v", err)
		}
	}
	f := mustCreate(t, testName(t), []int{4}, Float64)
	_, err := View[float64](f)
	check(true, err)
	_, err = View[celsius](f)
	check(true, err)
	_, err = View[float32](f)
	check(false, err)
	_, err = View[int64](f)
	check(false, err)
	dt := mustCreate(t, testName(t), []int{4}, Datetime64)
	_, err = View[int64](dt)
	check(true, err)
	_, err = View[int](dt)
	check(true, err)
	h := mustCreate(t, testName(t), []int{4}, Float16)
	_, err = View[numtype.Half](h)
	check(true, err)
	_, err = View[uint16](h)
	check(false, err)
	// Long double: TestViewLongDouble.
	s := mustCreate(t, testName(t), []int{4}, bytesDtype(3))
	_, err = View[uint8](s)
	check(false, err)
	bo := mustCreate(t, testName(t), []int{3}, Bool)
	bv, err := View[bool](bo)
	check(true, err)
	bv[1] = true
	assert.DeepEqual(t, bo.Bytes(), []byte{0, 1, 0})
}

func TestCloseAndUseAfterClose(t *testing.T) {
	a, err := Create(testName(t), []int{8}, Uint8)
	assert.NilError(t, err)
	assert.NilError(t, a.Close())
	assert.NilError(t, a.Close(), "Close is idempotent")
	assert.Assert(t, a.Bytes() == nil)
	_, err = View[uint8](a)
	assert.Assert(t, errors.Is(err, fs.ErrClosed))
	assert.Assert(t, errors.Is(a.Msync(MsyncSync), fs.ErrClosed))
	assert.Assert(t, errors.Is(a.Mlock(), fs.ErrClosed))
	assert.Assert(t, errors.Is(a.Munlock(), fs.ErrClosed))
	b, err := Attach(a.Name())
	assert.NilError(t, err, "Close does not delete")
	b.Close()
}

func TestCloseConcurrent(t *testing.T) {
	t.Parallel()
	a, err := Create(testName(t), []int{1024}, Uint8)
	assert.NilError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Bytes()
			a.Msync(MsyncAsync)
			a.Close()
		}()
	}
	wg.Wait()
	assert.Assert(t, a.Bytes() == nil)
}

func TestDeleteKeepsMappings(t *testing.T) {
	t.Parallel()
	name := testName(t)
	a := mustCreate(t, name, []int{1000}, Int64)
	v, _ := View[int64](a)
	v[999] = 42
	assert.NilError(t, Delete(name))
	_, err := Attach(name)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist))
	v[0] = 7 // still mapped
	assert.Equal(t, v[999], int64(42))
	assert.Assert(t, errors.Is(Delete(name), fs.ErrNotExist))
}

func TestDeleteRefusesForeign(t *testing.T) {
	t.Parallel()
	name := testName(t)
	path := shmDir + "/" + name
	assert.NilError(t, os.WriteFile(path, make([]byte, 4096), 0o600))
	err := Delete(name)
	assert.Assert(t, errors.Is(err, ErrFormat), "%v", err)
	_, err = os.Stat(path)
	assert.NilError(t, err, "the file stays")
	_, err = Attach(name)
	assert.Assert(t, errors.Is(err, ErrFormat))
	_, err = Stat(name)
	assert.Assert(t, errors.Is(err, ErrFormat))
}

func TestFileArrays(t *testing.T) {
	dir := t.TempDir()
	name := "file://" + filepath.Join(dir, "a.dat")
	a := mustCreate(t, name, []int{2, 3}, Int32)
	v, _ := View[int32](a)
	v[5] = 99
	assert.NilError(t, a.Msync(MsyncSync))
	raw, err := os.ReadFile(filepath.Join(dir, "a.dat"))
	assert.NilError(t, err)
	assert.Equal(t, len(raw), 24+548)
	assert.Equal(t, raw[20], byte(99), "msync wrote the data to the file")
	assert.NilError(t, a.Msync(MsyncAsync|MsyncInvalidate))
	info, err := Stat(name)
	assert.NilError(t, err)
	assert.DeepEqual(t, info.Shape, []int{2, 3})
	assert.Equal(t, info.Size, int64(24+548))
	_, err = Create(name, []int{1}, Int8)
	assert.Assert(t, errors.Is(err, fs.ErrExist))
	assert.NilError(t, Delete(name))
	_, err = os.Stat(filepath.Join(dir, "a.dat"))
	assert.Assert(t, errors.Is(err, fs.ErrNotExist))

	// Relative paths are relative to the working directory.
	t.Chdir(dir)
	b := mustCreate(t, "file://rel.dat", []int{1}, Uint8)
	_, err = os.Stat(filepath.Join(dir, "rel.dat"))
	assert.NilError(t, err)
	b.Close()
	assert.NilError(t, Delete("file://rel.dat"))
	_, err = Create("file://"+filepath.Join(dir, "no", "such", "dir.dat"), []int{1}, Uint8)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.dat")
	a := mustCreate(t, "file://"+path, []int{4}, Uint16)
	v, _ := View[uint16](a)
	v[2] = 513
	a.Close()
	assert.NilError(t, os.Chmod(path, 0o444))
	if os.Geteuid() != 0 { // root opens anything read-write
		_, err := Attach("file://" + path)
		assert.Assert(t, errors.Is(err, fs.ErrPermission), "%v", err)
	}
	r, err := Attach("file://"+path, ReadOnly())
	assert.NilError(t, err)
	defer r.Close()
	assert.Assert(t, !r.Writable())
	w, _ := View[uint16](r)
	assert.Equal(t, w[2], uint16(513))
}

func TestWithPerm(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	for _, perm := range []fs.FileMode{0o600, 0o640, 0o666} {
		name := testName(t)
		mustCreate(t, name, []int{1}, Uint8, WithPerm(perm))
		st, err := os.Stat(shmDir + "/" + name)
		assert.NilError(t, err)
		assert.Equal(t, st.Mode().Perm(), perm)
	}
	// Without WithPerm: 0666 (before the umask, which is 0 here), for shm
	// names and files alike.
	for _, name := range []string{testName(t), "file://" + filepath.Join(t.TempDir(), "a")} {
		mustCreate(t, name, []int{1}, Uint8)
		path, ok := strings.CutPrefix(name, "file://")
		if !ok {
			path = shmDir + "/" + name
		}
		fi, err := os.Stat(path)
		assert.NilError(t, err)
		assert.Equal(t, fi.Mode().Perm(), fs.FileMode(0o666), name)
	}
}

func TestSparse(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, testName(t), []int{1 << 20}, Float64, Sparse())
	assert.Equal(t, a.Len(), 1<<20)
	v, _ := View[float64](a)
	v[len(v)-1] = 1
	b := mustCreate(t, testName(t), []int{1 << 20}, Float64)
	var st syscall.Stat_t
	assert.NilError(t, syscall.Stat(shmDir+"/"+a.Name(), &st))
	sparseBlocks := st.Blocks
	assert.NilError(t, syscall.Stat(shmDir+"/"+b.Name(), &st))
	assert.Assert(t, st.Blocks*512 >= 8<<20, "reserved: %d blocks", st.Blocks)
	assert.Assert(t, sparseBlocks*512 < 1<<20, "sparse: %d blocks", sparseBlocks)
}

func TestPersistsAfterClose(t *testing.T) {
	t.Parallel()
	name := testName(t)
	a, err := Create(name, []int{3}, Int8)
	assert.NilError(t, err)
	v, _ := View[int8](a)
	v[0] = -5
	assert.NilError(t, a.Close())
	b, err := Attach(name)
	assert.NilError(t, err)
	defer b.Close()
	w, _ := View[int8](b)
	assert.Equal(t, w[0], int8(-5))
}

func TestList(t *testing.T) {
	names := []string{testName(t), testName(t), testName(t)}
	for i, n := range names {
		mustCreate(t, n, []int{i + 1, 2}, Float32, WithLayout(layouts()[i]))
	}
	bad := testName(t)
	assert.NilError(t, os.WriteFile(shmDir+"/"+bad, make([]byte, 600), 0o644))
	fifo := testName(t)
	assert.NilError(t, syscall.Mkfifo(shmDir+"/"+fifo, 0o644))
	link := testName(t)
	assert.NilError(t, os.Symlink(shmDir+"/"+names[0], shmDir+"/"+link))

	infos, err := List()
	assert.NilError(t, err)
	found := map[string]Info{}
	for i, in := range infos {
		if i > 0 {
			assert.Assert(t, infos[i-1].Name < in.Name, "sorted")
		}
		found[in.Name] = in
	}
	for i, n := range names {
		in, ok := found[n]
		assert.Assert(t, ok, n)
		assert.Equal(t, in.Layout, layouts()[i])
		assert.DeepEqual(t, in.Shape, []int{i + 1, 2})
		assert.Equal(t, in.Dtype, Float32)
		assert.Equal(t, in.Size, int64(8*(i+1)+layouts()[i].TrailerSize()))
		assert.Assert(t, !in.ModTime.IsZero())
	}
	for _, n := range []string{bad, fifo, link} {
		_, ok := found[n]
		assert.Assert(t, !ok, n)
	}
}

func TestPrefault(t *testing.T) {
	t.Parallel()
	a := mustCreate(t, testName(t), []int{1 << 18}, Float64, Prefault())
	v, _ := View[float64](a)
	v[len(v)-1] = 2
	b, err := Attach(a.Name(), Prefault())
	assert.NilError(t, err)
	defer b.Close()
	w, _ := View[float64](b)
	assert.Equal(t, w[len(w)-1], 2.0)
	e := mustCreate(t, testName(t), []int{0}, Float64, Prefault())
	assert.Equal(t, e.Len(), 0)
}

func TestMlock(t *testing.T) {
	a := mustCreate(t, testName(t), []int{512}, Float64)
	assert.NilError(t, a.Mlock())
	assert.NilError(t, a.Munlock())
	assert.NilError(t, a.Msync(MsyncSync))
}
