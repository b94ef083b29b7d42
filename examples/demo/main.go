// Command demo shows a Go process and a Python process (the real
// SharedArray from PyPI) working on the same arrays. Run it with make demo.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/sharedarray/sharedarray"
)

func main() {
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func python() string {
	if p := os.Getenv("DEMO_PYTHON"); p != "" {
		return p
	}
	dir := os.Getenv("SHAREDARRAY_VENVS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "sharedarray", "venvs")
	}
	return filepath.Join(dir, "sa324-np2", "bin", "python")
}

func step(n int, who, what string) { fmt.Printf("\n[%d] %s: %s\n", n, who, what) }

// py runs demo.py with args, its output indented under the step.
func py(args ...string) error {
	_, self, _, _ := runtime.Caller(0)
	cmd := exec.Command(python(), append([]string{filepath.Join(filepath.Dir(self), "demo.py")}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func demo() error {
	goName := fmt.Sprintf("shm://sharedarray-demo-%d-field", os.Getpid())
	pyName := fmt.Sprintf("shm://sharedarray-demo-%d-counts", os.Getpid())
	defer sharedarray.Delete(goName)
	defer sharedarray.Delete(pyName)

	step(1, "Go", "create "+goName+" as float64 (3, 4) and fill it")
	a, err := sharedarray.Create(goName, []int{3, 4}, sharedarray.Float64)
	if err != nil {
		return err
	}
	defer a.Close()
	field, err := sharedarray.View[float64](a)
	if err != nil {
		return err
	}
	for i := range field {
		field[i] = float64(i) / 2
	}
	fmt.Printf("    layout %s, %d data bytes at a page-aligned address, values %v\n", a.Layout(), len(a.Bytes()), field)

	step(2, "Python", "SharedArray.attach it, multiply by 10 in place, create an array of its own")
	if err := py("attach-and-create", goName, pyName); err != nil {
		return err
	}

	step(3, "Go", "read both arrays")
	fmt.Printf("    %s now holds %v (Python's writes, no copy)\n", goName, field)
	b, err := sharedarray.Attach(pyName)
	if err != nil {
		return err
	}
	defer b.Close()
	counts, err := sharedarray.View[int32](b)
	if err != nil {
		return err
	}
	fmt.Printf("    %s: %s %v, layout %s, values %v\n", pyName, b.Dtype(), b.Shape(), b.Layout(), counts)

	dir, err := os.MkdirTemp("", "sharedarray-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	snap := filepath.Join(dir, "field.npy")
	step(4, "Go", "export a snapshot of "+goName+" to "+snap)
	if err := a.SaveNPY(snap); err != nil {
		return err
	}
	st, _ := os.Stat(snap)
	fmt.Printf("    %d bytes written\n", st.Size())

	step(5, "Python", "numpy.load the snapshot and compare it with the live array")
	if err := py("load-snapshot", snap, goName); err != nil {
		return err
	}

	step(6, "Go", "delete both arrays")
	if err := sharedarray.Delete(goName); err != nil {
		return err
	}
	if err := sharedarray.Delete(pyName); err != nil {
		return err
	}
	fmt.Println("    done; the mapping Go still holds stays valid until Close:", field[:3])
	return nil
}
