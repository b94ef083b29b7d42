// Command sharedarray lists, inspects, creates, removes, exports, imports
// and garbage-collects SharedArray segments: NumPy arrays in /dev/shm (or
// files) that Go and Python processes share.
//
//	sharedarray ls [-l] [--json]
//	sharedarray info NAME
//	sharedarray create NAME SHAPE DTYPE [--layout L] [--sparse] [--perm MODE]
//	sharedarray rm [--force] [--] NAME...
//	sharedarray export NAME FILE.npy
//	sharedarray import FILE.npy NAME [--layout L] [--sparse]
//	sharedarray gc [--older-than DURATION] [--dry-run] [--all-layouts] [--force] [PATTERN...]
//	sharedarray doctor [--need SIZE] [--dir DIR] [--json]
//	sharedarray top [--json] [-n COUNT] NAME...
//	sharedarray --version
//
// docs/cli.md describes every command, how names are quoted, the exit
// codes, gc's safety rules and the JSON ls --json prints. From a clone,
// install it with
//
//	go install ./cmd/sharedarray
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
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
	exitFail  = 1 // the operation failed, or gc left an array it could not judge
	exitUsage = 2 // the command line is wrong
)

type command struct {
	name, args, help string
	run              func(c *cli, args []string) int
}

type cli struct {
	cmd            *command
	stdout, stderr io.Writer
	fs             *flag.FlagSet
	// flag values
	json, long, sparse, force, dryRun, allLayouts bool
	layout, perm, olderThan                       string
	count                                         int
}

var commands []*command

func init() {
	commands = []*command{
		{name: "ls", args: "[-l] [--json]", help: "List every SharedArray in /dev/shm: name, dtype, shape, data bytes, layout, age, and how many processes hold it (ATTACHED).",
			run: (*cli).ls},
		{name: "info", args: "NAME", help: "Show one array's trailer (shm://NAME, NAME or file://PATH), or why it is not a valid SharedArray.",
			run: (*cli).info},
		{name: "create", args: "NAME SHAPE DTYPE", help: "Create a zero-filled array. SHAPE is decimal sizes joined by ',' or 'x' (3,4 or 640x480 or (5,)); a 0-d array is () or scalar. DTYPE is a NumPy spelling (f8, float32, int64, S7, ...).",
			run: (*cli).create},
		{name: "rm", args: "[--force] [--] NAME...", help: "Delete arrays. A file that is not a valid SharedArray is kept unless --force is given; -- ends the flags.",
			run: (*cli).rm},
		{name: "export", args: "NAME FILE.npy", help: "Write a snapshot of an array to a .npy file that numpy.load reads (an existing FILE is replaced atomically).",
			run: (*cli).export},
		{name: "import", args: "FILE.npy NAME", help: "Create an array from a .npy file (C or Fortran order, either byte order).",
			run: (*cli).importNPY},
		{name: "gc", args: "[--older-than DURATION] [--dry-run] [--all-layouts] [--force] [PATTERN...]", help: "Remove arrays that no process maps or has open and that were last modified longer ago than --older-than; with PATTERNs (shell globs like 'run42-*', quoted), only arrays whose names match. docs/cli.md has the safety rules.",
			run: (*cli).gc},
		doctorCommand,
		topCommand,
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sharedarray COMMAND [ARGS]\n\nNumPy arrays in shared memory, compatible with Python's SharedArray.\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'sharedarray COMMAND --help' for a command's arguments and flags,\n'sharedarray --version' for the version.")
}

func isHelp(a string) bool {
	return a == "-h" || a == "-help" || a == "--help" || a == "--h"
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch {
	case args[0] == "help" && len(args) == 1, isHelp(args[0]):
		usage(stdout)
		return exitOK
	case args[0] == "help":
		args = []string{args[1], "--help"}
	case args[0] == "--version" || args[0] == "-version" || args[0] == "version":
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name != args[0] {
			continue
		}
		c := &cli{cmd: cmd, stdout: stdout, stderr: stderr}
		c.fs = flag.NewFlagSet("sharedarray "+cmd.name, flag.ContinueOnError)
		c.fs.SetOutput(io.Discard) // errors are printed in our style below
		c.fs.Usage = func() {}
		switch cmd.name {
		case "ls":
			c.fs.BoolVar(&c.json, "json", false, "print JSON (docs/cli.md has the schema)")
			c.fs.BoolVar(&c.long, "l", false, "also list the holders: PID/command for each process that maps (or, marked (fd), only has open) the array")
		case "create", "import":
			c.fs.StringVar(&c.layout, "layout", "", "trailer `layout`, which decides the SharedArray builds that attach the array:\n"+layoutHelp())
			c.fs.BoolVar(&c.sparse, "sparse", false, "do not reserve memory up front")
			if cmd.name == "create" {
				c.fs.StringVar(&c.perm, "perm", "0666", "permission bits, before the umask, in `octal`")
			}
		case "rm":
			c.fs.BoolVar(&c.force, "force", false, "also remove regular files that are not valid SharedArrays (never directories, links or devices)")
		case "doctor":
			c.doctorFlags()
		case "top":
			c.topFlags()
		case "gc":
			c.fs.StringVar(&c.olderThan, "older-than", "1h", "remove only arrays last modified longer ago than this `duration` (like 90s, 30m, 12h, 7d; 0 for any age)")
			c.fs.BoolVar(&c.dryRun, "dry-run", false, "print what would be removed, remove nothing")
			c.fs.BoolVar(&c.allLayouts, "all-layouts", false, "also remove arrays in SharedArray's own layouts (v30, numpy1, numpy2), which Python programs create; by default only dual and dual-v30 arrays, which only this library writes")
			c.fs.BoolVar(&c.force, "force", false, "remove unheld arrays even when some processes could not be inspected (they may hold them)")
		}
		for _, a := range args[1:] {
			if a == "--" {
				break
			}
			if isHelp(a) {
				c.printUsage(stdout)
				return exitOK
			}
		}
		pos, err := parseInterleaved(c.fs, args[1:])
		if err != nil {
			msg := visible(flagMessage(err, args[1:]))
			fmt.Fprintf(stderr, "sharedarray: %s: %s\nRun 'sharedarray %s --help' for usage.\n", cmd.name, msg, cmd.name)
			return exitUsage
		}
		return cmd.run(c, pos)
	}
	fmt.Fprintf(stderr, "sharedarray: unknown command %s\n\n", quote(args[0]))
	usage(stderr)
	return exitUsage
}

// printUsage prints a command's help, its flags spelled --flag as the
// README writes them.
func (c *cli) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: sharedarray %s %s\n\n%s\n", c.cmd.name, c.cmd.args, c.cmd.help)
	first := true
	c.fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(w, "\nFlags:")
			first = false
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + strings.ToUpper(arg)
		}
		fmt.Fprintf(w, "  %s%s%s\n", dash, f.Name, arg)
		for _, line := range strings.Split(usage, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, "      (default %s)\n", f.DefValue)
		}
	})
}

// layoutHelp lists the layouts and the SharedArray builds each serves.
func layoutHelp() string {
	var b strings.Builder
	for _, l := range []sharedarray.Layout{sharedarray.LayoutDual, sharedarray.LayoutDualV30, sharedarray.LayoutNumPy1, sharedarray.LayoutNumPy2, sharedarray.LayoutV30} {
		def := ""
		if l == sharedarray.LayoutDual {
			def = " (default)"
		}
		fmt.Fprintf(&b, "  %-9s %s%s\n", l, readers(l), def)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// version reports the module version and the Go toolchain that built the
// binary.
func version() string {
	v, rev := "(unknown)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
			if s.Key == "vcs.modified" && s.Value == "true" && rev != "" {
				rev += "+dirty"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	s := "sharedarray " + v
	if rev != "" && !strings.Contains(v, rev[:min(len(rev), 12)]) {
		s += " (" + rev + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// parseInterleaved parses flags wherever they stand among the arguments
// and returns the positional ones. "--" ends the flags: every argument
// after it is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage rewrites the flag package's error to name the flag as the
// user typed it (the package writes every flag with one dash), and, for
// an unknown one, says how to pass an operand that starts with '-' (a
// name, or a negative number given as a shape).
func flagMessage(err error, args []string) string {
	msg := err.Error()
	// typed is how the user spelled the flag the package calls -name.
	typed := func(name string) string {
		for _, a := range args {
			if a == "--" {
				break
			}
			if f, _, _ := strings.Cut(a, "="); f == "-"+name || f == "--"+name {
				return f
			}
		}
		return "--" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + typed(name) + " (an operand that starts with '-' goes after --)"
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag needs an argument: " + typed(name)
	}
	// invalid value "v" for flag -name: ..., invalid boolean value "v" for -name: ...
	for _, sep := range []string{" for flag -", " for -"} {
		if before, after, ok := strings.Cut(msg, sep); ok {
			name, rest, _ := strings.Cut(after, ":")
			return before + " for " + typed(name) + ":" + rest
		}
	}
	return msg
}

// want checks the number of positional arguments.
func (c *cli) want(args []string, n int) bool {
	if len(args) == n {
		return true
	}
	return c.usageError("want %d argument(s), got %d", n, len(args))
}

// usageError reports a wrong command line (exit status 2).
func (c *cli) usageError(format string, a ...any) bool {
	fmt.Fprintf(c.stderr, "sharedarray: %s: %s\n", c.cmd.name, visible(fmt.Sprintf(format, a...)))
	fmt.Fprintf(c.stderr, "usage: sharedarray %s %s\nRun 'sharedarray %s --help' for more.\n", c.cmd.name, c.cmd.args, c.cmd.name)
	return false
}

// fail prints "sharedarray: OP NAME: CAUSE" and returns exitFail. name is
// the user's spelling of what failed; the library's own prefixes and
// names are dropped from the cause.
func (c *cli) fail(name string, err error) int {
	c.report(name, err)
	return exitFail
}

func (c *cli) report(name string, err error) {
	fmt.Fprintln(c.stderr, message(c.cmd.name, name, err))
}

// message formats an error in the one style the command uses. The cause
// may embed user input the system formatted (a path in a read error): it
// is printed with every non-printable byte escaped.
func message(op, name string, err error) string {
	s := "sharedarray: " + op
	if name != "" {
		s += " " + quote(name)
	}
	c := cause(err)
	if errors.Is(err, syscall.ELOOP) && isShmLink(name) {
		c = "is a symbolic link (arrays in /dev/shm are never opened through links)"
	}
	return s + ": " + visible(c)
}

// isShmLink reports whether name is a shm name whose /dev/shm entry is a
// symbolic link: the library opens shm names with O_NOFOLLOW, so such a
// name fails with ELOOP, whose text ("too many levels of symbolic
// links") would mislead.
func isShmLink(name string) bool {
	rest, ok := strings.CutPrefix(name, "shm://")
	if !ok && strings.Contains(name, "://") {
		return false
	}
	if !ok {
		rest = name
	}
	fi, err := os.Lstat("/dev/shm/" + strings.TrimLeft(rest, "/"))
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// cause is what went wrong, without the op, the name or a "sharedarray:"
// prefix the library's error carries.
func cause(err error) string {
	var fe *sharedarray.FormatError
	var pe *fs.PathError
	var s string
	switch {
	case errors.As(err, &fe):
		if fe.Field != "" {
			s = fe.Field
			if fe.Value != nil {
				s += fmt.Sprintf(" = %v", fe.Value)
			}
			if fe.Offset >= 0 {
				s += fmt.Sprintf(" at offset %d", fe.Offset)
			}
			s += ": "
		}
		s += fe.Msg + " (not a valid SharedArray)"
	case errors.As(err, &pe):
		s = pe.Err.Error()
	default:
		s = err.Error()
	}
	return strings.ReplaceAll(s, "sharedarray: ", "")
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
			return nil, fmt.Errorf("--perm %s is not an octal mode like 0600", quote(c.perm))
		}
		opts = append(opts, sharedarray.WithPerm(os.FileMode(p)))
	}
	return opts, nil
}

func (c *cli) flush(tw *tabwriter.Writer) int {
	if err := tw.Flush(); err != nil {
		return c.fail("", err)
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

// dataBytes is the size of an array's data: elements times item size.
func dataBytes(in sharedarray.Info) int64 {
	n := int64(in.Dtype.ItemSize())
	for _, d := range in.Shape {
		n *= int64(d)
	}
	return n
}

func (c *cli) info(args []string) int {
	if !c.want(args, 1) {
		return exitUsage
	}
	in, err := sharedarray.Stat(args[0])
	if err != nil {
		return c.fail(args[0], err)
	}
	n := 1
	for _, d := range in.Shape {
		n *= d
	}
	strides := in.Strides()
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\n", quote(args[0]))
	fmt.Fprintf(tw, "dtype\t%s (%s, typenum %d, itemsize %d)\n", in.Dtype, in.Dtype.Name(), in.Dtype.Typenum(), in.Dtype.ItemSize())
	fmt.Fprintf(tw, "shape\t%s\n", shapeString(in.Shape))
	fmt.Fprintf(tw, "strides\t%s\n", shapeString(strides))
	fmt.Fprintf(tw, "elements\t%d\n", n)
	fmt.Fprintf(tw, "data bytes\t%d\n", dataBytes(in))
	fmt.Fprintf(tw, "file bytes\t%d\n", in.Size)
	fmt.Fprintf(tw, "layout\t%s (%d-byte trailer; %s)\n", in.Layout, in.Layout.TrailerSize(), readers(in.Layout))
	fmt.Fprintf(tw, "modified\t%s\n", in.ModTime.UTC().Format(time.RFC3339))
	if r := ringOf(args[0], in); r != nil {
		fmt.Fprintf(tw, "frame ring\t%s\n", r)
	}
	hs, herr := sharedarray.Holders(args[0])
	if herr == nil || errors.Is(herr, sharedarray.ErrPermission) {
		fmt.Fprintf(tw, "attached\t%s\n", attachedString(len(hs), herr != nil))
		for _, h := range hs {
			fmt.Fprintf(tw, "holder\t%s\n", holderString(h))
		}
	}
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

// parseShape reads a shape: decimal sizes joined by ',' or 'x' ("3,4",
// "640x480", "5"), optionally in parentheses with spaces after commas and
// a trailing comma ("(2, 3)", "(5,)"), or "()" / "scalar" for a 0-d
// array. Empty components, signs, hex and leading zeros are refused.
func parseShape(s string) ([]int, error) {
	bad := func(why string) ([]int, error) {
		return nil, fmt.Errorf("bad shape %s: %s (want sizes like 3,4 or 640x480, or () or scalar for 0-d)", quote(s), why)
	}
	t := strings.TrimSpace(s)
	if t == "scalar" || t == "()" {
		return []int{}, nil
	}
	if strings.HasPrefix(t, "(") {
		if !strings.HasSuffix(t, ")") {
			return bad("unbalanced parenthesis")
		}
		t = strings.TrimSuffix(strings.TrimSuffix(t[1:len(t)-1], " "), ",")
	} else if strings.HasSuffix(t, ",") {
		t = t[:len(t)-1]
	}
	if strings.TrimSpace(t) == "" {
		return bad("no dimensions")
	}
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		return bad("it reads as hexadecimal; write 0,N for a zero-length first dimension")
	}
	parts := strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == 'x' || r == 'X' })
	if n := strings.Count(t, ",") + strings.Count(t, "x") + strings.Count(t, "X") + 1; n != len(parts) {
		return bad("an empty dimension")
	}
	shape := make([]int, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return bad(fmt.Sprintf("dimension %s is not a decimal size", quote(p)))
		}
		if len(p) > 1 && p[0] == '0' {
			return bad(fmt.Sprintf("dimension %s has a leading zero", p))
		}
		d, err := strconv.Atoi(p)
		if err != nil {
			return bad(fmt.Sprintf("dimension %s is too large", p))
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
		c.usageError("%s", cause(err))
		return exitUsage
	}
	dt, err := sharedarray.ParseDtype(args[2])
	if err != nil {
		c.usageError("%s", cause(err))
		return exitUsage
	}
	opts, err := c.options()
	if err != nil {
		c.usageError("%s", cause(err))
		return exitUsage
	}
	a, err := sharedarray.Create(args[0], shape, dt, opts...)
	if err != nil {
		return c.fail(args[0], err)
	}
	defer a.Close()
	fmt.Fprintf(c.stdout, "created %s: %s %s, %d data bytes, layout %s\n", quote(args[0]), a.Dtype(), shapeString(a.Shape()), len(a.Bytes()), a.Layout())
	return exitOK
}

func (c *cli) rm(args []string) int {
	if len(args) == 0 {
		c.usageError("name the arrays to delete")
		return exitUsage
	}
	code := exitOK
	for _, name := range args {
		err := sharedarray.Delete(name)
		if err != nil && c.force && errors.Is(err, sharedarray.ErrFormat) {
			err = forceRemove(name)
		}
		if err != nil {
			c.report(name, err)
			code = exitFail
			continue
		}
		fmt.Fprintf(c.stdout, "deleted %s\n", quote(name))
	}
	return code
}

// forceRemove removes a regular file that Delete refused as not a valid
// SharedArray. Delete parsed the name already; only the scheme goes. It
// never removes a directory (unlink(2), unlike os.Remove, does not fall
// back to rmdir), nor a link, FIFO, socket or device.
func forceRemove(name string) error {
	path := name
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		path = p
	} else {
		path = "/dev/shm/" + strings.TrimLeft(strings.TrimPrefix(name, "shm://"), "/")
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file; --force removes only regular files")
	}
	return syscall.Unlink(path)
}

func (c *cli) export(args []string) int {
	if !c.want(args, 2) {
		return exitUsage
	}
	name, file := args[0], args[1]
	a, err := sharedarray.Attach(name, sharedarray.ReadOnly())
	if err != nil {
		return c.fail(name, err)
	}
	defer a.Close()
	// SaveNPY writes a new file beside the target and renames it over
	// the target once complete: a failed export leaves the old file.
	p := newProgress(c.stderr, "export "+quote(name), int64(len(a.Bytes())))
	var opts []sharedarray.Option
	if p.active() { // else the file goes to SaveNPY unwrapped: its fastest path
		opts = append(opts, sharedarray.OnProgress(p.n.Store))
	}
	err = a.SaveNPY(file, opts...)
	p.done()
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == file {
			return c.fail(file, err) // the file's fault
		}
		return c.fail(name, err)
	}
	var n int64
	if st, err := os.Stat(file); err == nil {
		n = st.Size()
	}
	fmt.Fprintf(c.stdout, "exported %s to %s (%d bytes)\n", quote(name), quote(file), n)
	return exitOK
}

// blamesFile reports whether an import error is the .npy file's fault:
// its content (ErrNPY) or an error reading it.
func blamesFile(err error, file string) bool {
	if errors.Is(err, sharedarray.ErrNPY) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if pe, ok := e.(*fs.PathError); ok && pe.Path == file {
			return true
		}
	}
	return false
}

func (c *cli) importNPY(args []string) int {
	if !c.want(args, 2) {
		return exitUsage
	}
	file, name := args[0], args[1]
	opts, err := c.options()
	if err != nil {
		c.usageError("%s", cause(err))
		return exitUsage
	}
	// Fail before reading when the name is taken (Create would only find
	// out after the data is read).
	switch _, err := sharedarray.Stat(name); {
	case err == nil, errors.Is(err, sharedarray.ErrFormat), errors.Is(err, sharedarray.ErrPermission):
		return c.fail(name, syscall.EEXIST)
	case errors.Is(err, sharedarray.ErrNotExist):
	default:
		return c.fail(name, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return c.fail(file, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return c.fail(file, err)
	}
	p := newProgress(c.stderr, "import "+quote(file), st.Size())
	a, err := sharedarray.LoadNPYFrom(name, p.fileReader(f), opts...)
	p.done()
	if err != nil {
		if blamesFile(err, file) {
			return c.fail(file, err)
		}
		return c.fail(name, err)
	}
	defer a.Close()
	fmt.Fprintf(c.stdout, "imported %s as %s: %s %s, layout %s\n", quote(file), quote(name), a.Dtype(), shapeString(a.Shape()), a.Layout())
	return exitOK
}
