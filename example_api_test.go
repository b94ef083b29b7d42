package sharedarray_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sharedarray/sharedarray"
)

// Every dtype SharedArray can share, with NumPy's names for it. The
// sized types S<n>, U<n> and V<n> come from ParseDtype, in NumPy's
// spelling.
func ExampleDtype() {
	s7, _ := sharedarray.ParseDtype("S7")   // 7 bytes, NUL padded
	u3, _ := sharedarray.ParseDtype("U3")   // 3 UTF-32 code points
	v12, _ := sharedarray.ParseDtype("V12") // 12 raw bytes
	for _, d := range []sharedarray.Dtype{
		sharedarray.Bool, sharedarray.Int8, sharedarray.Uint16, sharedarray.Uint32, sharedarray.Uint64,
		sharedarray.Complex64, sharedarray.Complex128, sharedarray.LongDouble, sharedarray.CLongDouble,
		sharedarray.Datetime64, sharedarray.Timedelta64,
		s7, u3, v12,
	} {
		fmt.Println(d.Name(), d.String(), d.Typenum(), d.ItemSize(), d.IsFlexible())
	}
	// Output:
	// bool |b1 0 1 false
	// int8 |i1 1 1 false
	// uint16 <u2 4 2 false
	// uint32 <u4 6 4 false
	// uint64 <u8 8 8 false
	// complex64 <c8 14 8 false
	// complex128 <c16 15 16 false
	// longdouble <f16 13 16 false
	// clongdouble <c32 16 32 false
	// datetime64 <M8 21 8 false
	// timedelta64 <m8 22 8 false
	// S7 |S7 18 7 true
	// U3 <U3 19 12 true
	// V12 |V12 20 12 true
}

// The trailer layouts, by the names the command line takes. ParseLayout's
// error names every choice, ready for a --layout flag.
func ExampleParseLayout() {
	for _, l := range []sharedarray.Layout{sharedarray.LayoutV30, sharedarray.LayoutNumPy1,
		sharedarray.LayoutNumPy2, sharedarray.LayoutDual, sharedarray.LayoutDualV30} {
		fmt.Println(l, l.TrailerSize())
	}
	l, err := sharedarray.ParseLayout("numpy1")
	fmt.Println(l == sharedarray.LayoutNumPy1, err)
	fmt.Println(sharedarray.LayoutDual.String(), sharedarray.LayoutNumPy2.String())
	// Output:
	// v30 288
	// numpy1 292
	// numpy2 548
	// dual 548
	// dual-v30 548
	// true <nil>
	// dual numpy2
}

// Stat reads an array's dtype, shape and layout without mapping it; an
// Array tells the same, and more, once attached.
func ExampleStat() {
	name := exampleName("stat")
	a, err := sharedarray.Create(name, []int{2, 3}, sharedarray.Int32)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer a.Close()
	var info sharedarray.Info
	info, _ = sharedarray.Stat(name)
	fmt.Println(info.Dtype, info.Shape, info.Layout, info.Strides)
	describe(a)
	// Output:
	// <i4 [2 3] dual [12 4]
	// sharedarray.Array(NAME, shape=[2 3], dtype=<i4, layout=dual): 6 elements, strides [12 4], writable true
}

func describe(a *sharedarray.Array) {
	s := strings.Replace(a.String(), a.Name(), "NAME", 1)
	fmt.Printf("%s: %d elements, strides %v, writable %v\n", s, a.Len(), a.Strides(), a.Writable())
}

// Options say how Create, Attach, LoadNPY and SaveNPY work; each function
// refuses an option it does not use, naming both.
func ExampleOption() {
	name := exampleName("options")
	opts := []sharedarray.Option{
		sharedarray.WithLayout(sharedarray.LayoutDual),
		sharedarray.WithPerm(0o600),
		sharedarray.Sparse(),          // reserve nothing now
		sharedarray.SkipMemoryCheck(), // no up-front check against the cgroup
	}
	a, err := sharedarray.Create(name, []int{1 << 20}, sharedarray.Uint8, opts...)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer a.Close()
	b, err := sharedarray.Attach(name, sharedarray.ReadOnly(), sharedarray.Prefault())
	if err != nil {
		panic(err)
	}
	defer b.Close()
	fmt.Println(b.Writable())

	_, err = sharedarray.Attach(name, sharedarray.Sparse())
	var pe *fs.PathError
	fmt.Println(errors.Is(err, sharedarray.ErrInvalid), errors.As(err, &pe))
	fmt.Println(pe.Err)
	// Output:
	// false
	// true true
	// option Sparse applies to Create, CreateRing and LoadNPY, not Attach: invalid argument
}

// A snapshot to .npy and back: SaveNPY replaces the file atomically,
// LoadNPYFrom reads any stream, and a bad stream is ErrNPY.
func ExampleArray_SaveNPY() {
	name := exampleName("save")
	a, _ := sharedarray.Create(name, []int{4}, sharedarray.Float32)
	defer sharedarray.Delete(name)
	defer a.Close()
	v, _ := sharedarray.View[float32](a)
	copy(v, []float32{1, 2, 3, 4})

	path := filepath.Join(os.TempDir(), exampleName("save")+".npy")
	defer os.Remove(path)
	var written int64
	err := a.SaveNPY(path, sharedarray.Fsync(), sharedarray.OnProgress(func(n int64) { written = n }))
	fmt.Println(err, written)

	raw, _ := os.ReadFile(path)
	copyName := exampleName("save-copy")
	b, err := sharedarray.LoadNPYFrom(copyName, bytes.NewReader(raw))
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(copyName)
	defer b.Close()
	w, _ := sharedarray.View[float32](b)
	fmt.Println(w)

	_, err = sharedarray.LoadNPYFrom(exampleName("bad-npy"), bytes.NewReader([]byte("not a .npy file")))
	fmt.Println(errors.Is(err, sharedarray.ErrNPY))
	// Output:
	// <nil> 144
	// [1 2 3 4]
	// true
}

// Errors match the package's sentinels (and fs's, for the shared ones).
func ExampleAttach_errors() {
	classify := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, sharedarray.ErrNotExist):
			return "no such array"
		case errors.Is(err, sharedarray.ErrPermission):
			return "not allowed"
		case errors.Is(err, sharedarray.ErrInvalid):
			return "bad name or option"
		case errors.Is(err, sharedarray.ErrFormat):
			return "not a SharedArray"
		}
		return err.Error()
	}
	_, err := sharedarray.Attach(exampleName("missing"))
	fmt.Println(classify(err))
	_, err = sharedarray.Attach("shm://a/b")
	fmt.Println(classify(err))

	name := exampleName("closed")
	a, _ := sharedarray.Create(name, []int{4}, sharedarray.Uint8)
	defer sharedarray.Delete(name)
	a.Close()
	_, err = a.ReadAt(make([]byte, 4), 0)
	fmt.Println(errors.Is(err, sharedarray.ErrClosed))
	// Output:
	// no such array
	// bad name or option
	// true
}

// Another process truncated the file under the mapping: ReadAt returns
// ErrFault where touching a slice from Bytes or View would stop the
// program with SIGBUS.
func ExampleArray_ReadAt_truncated() {
	dir, _ := os.MkdirTemp("", "sharedarray-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "a.dat")
	a, _ := sharedarray.Create("file://"+path, []int{1 << 16}, sharedarray.Uint8)
	defer a.Close()
	os.Truncate(path, 0) // as another process might
	_, err := a.ReadAt(make([]byte, 1<<16), 0)
	fmt.Println(errors.Is(err, sharedarray.ErrFault))
	// Output: true
}

// Flush flags combine as SharedArray's MS_ASYNC | MS_INVALIDATE do.
func ExampleSyncFlag() {
	dir, _ := os.MkdirTemp("", "sharedarray-example")
	defer os.RemoveAll(dir)
	a, _ := sharedarray.Create("file://"+filepath.Join(dir, "a.dat"), []int{8}, sharedarray.Uint8)
	defer a.Close()
	var flags sharedarray.SyncFlag = sharedarray.MsyncAsync | sharedarray.MsyncInvalidate
	fmt.Println(a.Msync(flags))
	// Output: <nil>
}

// Lock an array's pages into memory (RLIMIT_MEMLOCK permitting), and
// unlock them without closing it.
func ExampleArray_Mlock() {
	name := exampleName("mlock")
	a, _ := sharedarray.Create(name, []int{4096}, sharedarray.Uint8)
	defer sharedarray.Delete(name)
	defer a.Close()
	err := a.Mlock()
	if errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.EPERM) {
		err = nil // past RLIMIT_MEMLOCK here: the error names the limit
	}
	fmt.Println(err, a.Munlock())
	// Output: <nil> <nil>
}

// Reclaim arrays nobody uses: HoldersOf checks many arrays, as List or
// Stat described them, in one pass over /proc, and DeleteIfUnchanged
// removes exactly the file that was checked. Processes this user may not
// inspect make the answer a lower bound (an *UninspectedError beside the
// complete answer): keep the arrays then.
func ExampleHoldersOf() {
	used, unused := exampleName("used"), exampleName("unused")
	a, _ := sharedarray.Create(used, []int{8}, sharedarray.Uint8)
	defer sharedarray.Delete(used)
	defer a.Close() // this process maps used
	b, _ := sharedarray.Create(unused, []int{8}, sharedarray.Uint8)
	b.Close()
	defer sharedarray.Delete(unused)

	var infos []sharedarray.Info // List() would give every array in /dev/shm
	for _, name := range []string{used, unused} {
		in, err := sharedarray.Stat(name)
		if err != nil {
			panic(err)
		}
		infos = append(infos, in)
	}
	held, err := sharedarray.HoldersOf(infos)
	var ue *sharedarray.UninspectedError
	if errors.As(err, &ue) {
		fmt.Fprintln(os.Stderr, "lower bound:", ue.Error(), ue.PIDs, ue.Hidden)
	} else if err != nil {
		panic(err)
	}
	var me sharedarray.Holder
	for _, h := range held[0] { // held[i] answers for infos[i]
		if h.PID == os.Getpid() {
			me = h
		}
	}
	fmt.Println("used:", me.Mapped, "unused:", len(held[1]))
	for i, in := range infos {
		if len(held[i]) == 0 && ue == nil {
			// Nobody maps it or has it open: remove that file, not
			// whatever the name may hold by now.
			if err := sharedarray.DeleteIfUnchanged(in); err != nil {
				fmt.Fprintln(os.Stderr, err) // it changed since: kept
			}
		}
	}
	// Output: used: true unused: 0
}

// Delete only what was inspected: DeleteIfUnchanged removes the file an
// Info describes, and refuses (syscall.ESTALE, nothing removed) when the
// name now holds another file, or that file changed.
func ExampleDeleteIfUnchanged() {
	name := exampleName("inspected")
	a, _ := sharedarray.Create(name, []int{8}, sharedarray.Uint8)
	a.Close()
	defer sharedarray.Delete(name)
	checked, _ := sharedarray.Stat(name) // say, found old and unheld

	// Meanwhile another process replaces the array with a new one.
	sharedarray.Delete(name)
	b, _ := sharedarray.Create(name, []int{4}, sharedarray.Float32)
	b.Close()
	now, _ := sharedarray.Stat(name)

	err := sharedarray.DeleteIfUnchanged(checked)
	fmt.Println("delete refused:", errors.Is(err, syscall.ESTALE))
	_, err = sharedarray.Stat(name)
	fmt.Println("new array kept:", err == nil)
	fmt.Println(sharedarray.DeleteIfUnchanged(now))
	// Output:
	// delete refused: true
	// new array kept: true
	// <nil>
}

// WriteAt and ReadAt move bytes in and out under the fault guard, as
// io.WriterAt and io.ReaderAt (io.NewSectionReader streams the data);
// WriteNPY streams the array as a .npy file to any writer.
func ExampleArray_WriteNPY() {
	name := exampleName("writenpy")
	a, _ := sharedarray.Create(name, []int{3}, sharedarray.Uint8, sharedarray.WithLayout(sharedarray.LayoutDualV30))
	defer sharedarray.Delete(name)
	defer a.Close()
	n, err := a.WriteAt([]byte{7, 8, 9}, 0)
	fmt.Println(n, err, a.Layout())
	data, err := io.ReadAll(io.NewSectionReader(a, 1, 2))
	fmt.Println(data, err)
	var buf bytes.Buffer
	written, err := a.WriteNPY(&buf)
	fmt.Println(written, err, bytes.HasSuffix(buf.Bytes(), []byte{7, 8, 9}))
	// Output:
	// 3 <nil> dual-v30
	// [8 9] <nil>
	// 131 <nil> true
}
