// Command sharedarray lists, inspects, creates, removes, exports and
// imports SharedArray segments: NumPy arrays in /dev/shm (or files) that Go
// and Python processes share.
//
//	sharedarray ls [--json]
//	sharedarray info NAME
//	sharedarray create NAME SHAPE DTYPE [--layout L] [--sparse] [--perm MODE]
//	sharedarray rm [--force] NAME...
//	sharedarray export NAME FILE.npy
//	sharedarray import FILE.npy NAME [--layout L] [--sparse]
//
// Install with
//
//	go install github.com/sharedarray/sharedarray/cmd/sharedarray@latest
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sharedarray/sharedarray"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the operation failed
	exitUsage = 2 // the command line is wrong
)

type command struct {
	name, args, help string
	run              func(c *cli, args []string) int
	flags            func(fs *flag.FlagSet)
}

type cli struct {
	stdout, stderr io.Writer
	fs             *flag.FlagSet
	// flag values
	json, sparse, force bool
	layout, perm        string
}

var commands []*command

func init() {
	commands = []*command{
		{name: "ls", args: "[--json]", help: "List every SharedArray in /dev/shm: name, dtype, shape, bytes, layout, age.",
			run: (*cli).ls, flags: func(fs *flag.FlagSet) {}},
		{name: "info", args: "NAME", help: "Show one array's trailer (shm://NAME, NAME or file://PATH), or why it is not a valid SharedArray.",
			run: (*cli).info},
		{name: "create", args: "NAME SHAPE DTYPE", help: "Create a zero-filled array. SHAPE is like 3,4 or 640x480 ('' or () for 0-d); DTYPE is a NumPy spelling (f8, float32, int64, S7, ...).",
			run: (*cli).create},
		{name: "rm", args: "NAME...", help: "Delete arrays. A file that is not a valid SharedArray is kept unless --force is given.",
			run: (*cli).rm},
		{name: "export", args: "NAME FILE.npy", help: "Write a snapshot of an array to a .npy file that numpy.load reads.",
			run: (*cli).export},
		{name: "import", args: "FILE.npy NAME", help: "Create an array from a .npy file (C or Fortran order, either byte order).",
			run: (*cli).importNPY},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sharedarray COMMAND [ARGS]\n\nNumPy arrays in shared memory, compatible with Python's SharedArray.\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'sharedarray COMMAND --help' for a command's arguments and flags.")
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(stdout)
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		c := &cli{stdout: stdout, stderr: stderr}
		c.fs = flag.NewFlagSet("sharedarray "+cmd.name, flag.ContinueOnError)
		c.fs.SetOutput(stderr)
		c.fs.Usage = func() {
			fmt.Fprintf(c.fs.Output(), "usage: sharedarray %s %s\n\n%s\n", cmd.name, cmd.args, cmd.help)
			if hasFlags(c.fs) {
				fmt.Fprintln(c.fs.Output(), "\nFlags:")
				c.fs.PrintDefaults()
			}
		}
		switch cmd.name {
		case "ls":
			c.fs.BoolVar(&c.json, "json", false, "print JSON")
		case "create", "import":
			c.fs.StringVar(&c.layout, "layout", "", "trailer layout: dual (default), numpy1, numpy2, v30, dual-v30")
			c.fs.BoolVar(&c.sparse, "sparse", false, "do not reserve memory up front")
			if cmd.name == "create" {
				c.fs.StringVar(&c.perm, "perm", "0666", "permission bits, before the umask")
			}
		case "rm":
			c.fs.BoolVar(&c.force, "force", false, "remove shm files even when they are not valid SharedArrays")
		}
		for _, a := range args[1:] {
			if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
				c.fs.SetOutput(stdout) // asked-for help goes to stdout
			}
		}
		pos, err := parseInterleaved(c.fs, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err != nil {
			return exitUsage
		}
		return cmd.run(c, pos)
	}
	fmt.Fprintf(stderr, "sharedarray: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseInterleaved parses flags wherever they stand among the arguments
// and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// want checks the number of positional arguments.
func (c *cli) want(args []string, n int) bool {
	if len(args) == n {
		return true
	}
	fmt.Fprintf(c.stderr, "%s: want %d argument(s), got %d\n", c.fs.Name(), n, len(args))
	c.fs.Usage()
	return false
}

func (c *cli) fail(err error) int {
	fmt.Fprintln(c.stderr, err)
	return exitFail
}

func (c *cli) options() ([]sharedarray.Option, error) {
	var opts []sharedarray.Option
	if c.layout != "" {
		l, err := sharedarray.ParseLayout(c.layout)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sharedarray.WithLayout(l))
	}
	if c.sparse {
		opts = append(opts, sharedarray.Sparse())
	}
	if c.perm != "" {
		p, err := strconv.ParseUint(c.perm, 8, 32)
		if err != nil || p > 0o777 {
			return nil, fmt.Errorf("sharedarray: --perm %q is not an octal mode like 0600", c.perm)
		}
		opts = append(opts, sharedarray.WithPerm(os.FileMode(p)))
	}
	return opts, nil
}

type lsEntry struct {
	Name       string `json:"name"`
	Dtype      string `json:"dtype"`
	Shape      []int  `json:"shape"`
	Bytes      int64  `json:"bytes"`
	Layout     string `json:"layout"`
	Modified   string `json:"modified"`
	AgeSeconds int64  `json:"age_seconds"`
}

func (c *cli) ls(args []string) int {
	if !c.want(args, 0) {
		return exitUsage
	}
	infos, err := sharedarray.List()
	if err != nil {
		return c.fail(err)
	}
	now := time.Now()
	entries := make([]lsEntry, 0, len(infos))
	for _, in := range infos {
		entries = append(entries, lsEntry{Name: in.Name, Dtype: in.Dtype.String(), Shape: in.Shape, Bytes: in.Size,
			Layout: in.Layout.String(), Modified: in.ModTime.UTC().Format(time.RFC3339), AgeSeconds: int64(now.Sub(in.ModTime).Seconds())})
	}
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(entries); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDTYPE\tSHAPE\tBYTES\tLAYOUT\tAGE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.Dtype, shapeString(e.Shape), e.Bytes, e.Layout, age(e.AgeSeconds))
	}
	return c.flush(tw)
}

func (c *cli) flush(tw *tabwriter.Writer) int {
	if err := tw.Flush(); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// age formats an age in seconds the way ls users read it.
func age(s int64) string {
	switch {
	case s < 0:
		return "0s"
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case s < 2*3600:
		return fmt.Sprintf("%dm", s/60)
	case s < 2*86400:
		return fmt.Sprintf("%dh", s/3600)
	}
	return fmt.Sprintf("%dd", s/86400)
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (c *cli) info(args []string) int {
	if !c.want(args, 1) {
		return exitUsage
	}
	in, err := sharedarray.Stat(args[0])
	if err != nil {
		return c.fail(err)
	}
	strides := make([]int, len(in.Shape))
	acc := in.Dtype.ItemSize()
	n := 1
	for i := len(in.Shape) - 1; i >= 0; i-- {
		strides[i] = acc
		acc *= in.Shape[i]
		n *= in.Shape[i]
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\n", in.Name)
	fmt.Fprintf(tw, "dtype\t%s (%s, typenum %d, itemsize %d)\n", in.Dtype, in.Dtype.Name(), in.Dtype.Typenum(), in.Dtype.ItemSize())
	fmt.Fprintf(tw, "shape\t%s\n", shapeString(in.Shape))
	fmt.Fprintf(tw, "strides\t%s\n", shapeString(strides))
	fmt.Fprintf(tw, "elements\t%d\n", n)
	fmt.Fprintf(tw, "data bytes\t%d\n", n*in.Dtype.ItemSize())
	fmt.Fprintf(tw, "file bytes\t%d\n", in.Size)
	fmt.Fprintf(tw, "layout\t%s (%d-byte trailer; %s)\n", in.Layout, in.Layout.TrailerSize(), readers(in.Layout))
	fmt.Fprintf(tw, "modified\t%s\n", in.ModTime.UTC().Format(time.RFC3339))
	return c.flush(tw)
}

// readers says which SharedArray builds attach a layout.
func readers(l sharedarray.Layout) string {
	switch l {
	case sharedarray.LayoutV30:
		return "SharedArray 2.x and 3.0.0"
	case sharedarray.LayoutNumPy1:
		return "SharedArray 3.1-3.2.3, and 3.2.4 built against NumPy 1"
	case sharedarray.LayoutNumPy2:
		return "SharedArray 3.2.4 built against NumPy 2"
	case sharedarray.LayoutDual:
		return "SharedArray 3.1+ built against NumPy 1 or 2"
	case sharedarray.LayoutDualV30:
		return "SharedArray 3.0.0, and 3.2.4 built against NumPy 2"
	}
	return "?"
}

// parseShape reads "3,4", "3x4", "(3, 4)", "5" or "" / "()" for 0-d.
func parseShape(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	shape := []int{}
	if strings.TrimSpace(s) == "" {
		return shape, nil
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' }) {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("sharedarray: bad shape %q: dimensions are non-negative integers like 3,4", s)
		}
		shape = append(shape, d)
	}
	return shape, nil
}

func (c *cli) create(args []string) int {
	if !c.want(args, 3) {
		return exitUsage
	}
	shape, err := parseShape(args[1])
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitUsage
	}
	dt, err := sharedarray.ParseDtype(args[2])
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitUsage
	}
	opts, err := c.options()
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitUsage
	}
	a, err := sharedarray.Create(args[0], shape, dt, opts...)
	if err != nil {
		return c.fail(err)
	}
	defer a.Close()
	fmt.Fprintf(c.stdout, "created %s: %s %s, %d data bytes, layout %s\n", a.Name(), a.Dtype(), shapeString(a.Shape()), len(a.Bytes()), a.Layout())
	return exitOK
}

func (c *cli) rm(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, "sharedarray rm: name the arrays to delete")
		c.fs.Usage()
		return exitUsage
	}
	code := exitOK
	for _, name := range args {
		err := sharedarray.Delete(name)
		if err != nil && c.force && errors.Is(err, sharedarray.ErrFormat) {
			err = forceRemove(name)
		}
		if err != nil {
			fmt.Fprintln(c.stderr, err)
			code = exitFail
			continue
		}
		fmt.Fprintf(c.stdout, "deleted %s\n", name)
	}
	return code
}

// forceRemove removes a shm file that is not a valid SharedArray.
func forceRemove(name string) error {
	bare := strings.TrimPrefix(name, "shm://")
	if strings.Contains(name, "://") && !strings.HasPrefix(name, "shm://") {
		return fmt.Errorf("sharedarray: --force removes shm segments only, not %s", name)
	}
	bare = strings.TrimLeft(bare, "/")
	if bare == "" || strings.Contains(bare, "/") || bare == "." || bare == ".." {
		return fmt.Errorf("sharedarray: bad shm name %q", name)
	}
	return os.Remove("/dev/shm/" + bare)
}

func (c *cli) export(args []string) int {
	if !c.want(args, 2) {
		return exitUsage
	}
	a, err := sharedarray.Attach(args[0], sharedarray.ReadOnly())
	if err != nil {
		return c.fail(err)
	}
	defer a.Close()
	// SaveNPY writes a new file beside the target and renames it over
	// the target once complete: a failed export leaves the old file.
	p := newProgress(c.stderr, "export "+args[0], int64(len(a.Bytes())))
	var opts []sharedarray.Option
	if p.active() { // else the file goes to SaveNPY unwrapped: its fastest path
		opts = append(opts, sharedarray.OnProgress(p.n.Store))
	}
	err = a.SaveNPY(args[1], opts...)
	p.done()
	if err != nil {
		return c.fail(err)
	}
	var n int64
	if st, err := os.Stat(args[1]); err == nil {
		n = st.Size()
	}
	fmt.Fprintf(c.stdout, "exported %s to %s (%d bytes)\n", args[0], args[1], n)
	return exitOK
}

func (c *cli) importNPY(args []string) int {
	if !c.want(args, 2) {
		return exitUsage
	}
	opts, err := c.options()
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return exitUsage
	}
	f, err := os.Open(args[0])
	if err != nil {
		return c.fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return c.fail(err)
	}
	p := newProgress(c.stderr, "import "+args[0], st.Size())
	a, err := sharedarray.LoadNPYFrom(args[1], p.fileReader(f), opts...)
	p.done()
	if err != nil {
		return c.fail(err)
	}
	defer a.Close()
	fmt.Fprintf(c.stdout, "imported %s as %s: %s %s, layout %s\n", args[0], a.Name(), a.Dtype(), shapeString(a.Shape()), a.Layout())
	return exitOK
}
