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
	"math"
	"math/bits"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/byteunit"
	appversion "github.com/sharedarray/sharedarray/internal/version"
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
	name, args string
	short      string // one line in the command list
	help       string // the paragraph of COMMAND --help
	run        func(c *cli, args []string) int
}

type cli struct {
	cmd            *command
	stdout, stderr io.Writer
	fs             *flag.FlagSet
	// flag values
	json, long, sparse, force, dryRun, allLayouts bool
	layout, perm, olderThan                       string
	count                                         int
	// staleAge is how long a private delete name must have existed
	// before gc takes it for a leftover (staleDeleteAge; tests pass less).
	staleAge time.Duration
}

var commands []*command

func init() {
	commands = []*command{
		{name: "ls", args: "[-l] [--json]", short: "list the arrays in /dev/shm and how many processes hold each",
			help: "List every SharedArray in /dev/shm: name, dtype, shape, data bytes, layout, age, and how many processes hold it (ATTACHED); frame rings get a RING column.",
			run:  (*cli).ls},
		{name: "info", args: "NAME", short: "show one array's trailer and holders, or why it is invalid",
			help: "Show one array's trailer (shm://NAME, NAME or file://PATH) and the processes holding it, or why it is not a valid SharedArray.",
			run:  (*cli).info},
		{name: "create", args: "NAME SHAPE DTYPE", short: "create a zero-filled array",
			help: "Create a zero-filled array. SHAPE is decimal sizes joined by ',' or 'x' (3,4 or 640x480 or (5,)); a 0-d array is () or scalar. DTYPE is a NumPy spelling (f8, float32, int64, S7, ...).",
			run:  (*cli).create},
		{name: "rm", args: "[--force] [--] NAME...", short: "delete arrays",
			help: "Delete arrays. A file that is not a valid SharedArray is kept unless --force is given; -- ends the flags.",
			run:  (*cli).rm},
		{name: "export", args: "NAME FILE.npy", short: "write an array to a .npy file numpy.load reads",
			help: "Write a snapshot of an array to a .npy file that numpy.load reads (an existing FILE is replaced atomically).",
			run:  (*cli).export},
		{name: "import", args: "FILE.npy NAME", short: "create an array from a .npy file",
			help: "Create an array from a .npy file (C or Fortran order, either byte order).",
			run:  (*cli).importNPY},
		{name: "gc", args: "[--older-than DURATION] [--dry-run] [--all-layouts] [--force] [PATTERN...]", short: "remove arrays crashed programs left behind",
			help: "Remove arrays that no process maps or has open and that were last modified longer ago than --older-than; with PATTERNs (shell globs like 'run42-*', quoted), only arrays whose names match. docs/cli.md has the safety rules.",
			run:  (*cli).gc},
		doctorCommand,
		topCommand,
	}
}

// helpWidth is the width help and messages are wrapped to: a terminal's.
const helpWidth = 80

// wrap breaks s into lines of at most width-len(indent) characters at
// spaces (a longer word stays whole), each line prefixed with indent.
func wrap(s, indent string, width int) string {
	var b strings.Builder
	for i, para := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := indent
		for _, w := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += w
		}
		b.WriteString(line)
	}
	return b.String()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sharedarray COMMAND [ARGS]\n\nNumPy arrays in shared memory, compatible with Python's SharedArray.\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w, "\nRun 'sharedarray COMMAND --help' for a command's arguments and flags,\n'sharedarray --version' for the version. docs/cli.md has the details.")
}

func isHelp(a string) bool {
	return a == "-h" || a == "-help" || a == "--help" || a == "--h"
}

func run(args []string, stdout, stderr io.Writer) int {
	return runStale(args, stdout, stderr, staleDeleteAge)
}

// runStale is run with the age gc requires of a leftover delete name.
func runStale(args []string, stdout, stderr io.Writer, staleAge time.Duration) int {
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
		c := &cli{cmd: cmd, stdout: stdout, stderr: stderr, staleAge: staleAge}
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
			msg := visible(flagMessage(err, args[1:], c.fs))
			fmt.Fprintf(stderr, "%s\nRun 'sharedarray %s --help' for usage.\n", fitLine("sharedarray: "+cmd.name+": "+msg), cmd.name)
			return exitUsage
		}
		return cmd.run(c, pos)
	}
	msg := "sharedarray: unknown command " + quote(args[0])
	if s := suggestCommand(args[0]); s != "" {
		msg += "; did you mean " + s + "?"
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	fmt.Fprintln(stderr, msg)
	fmt.Fprintln(stderr, wrap("The commands are "+strings.Join(names, ", ")+". Run 'sharedarray --help' for what each does.", "", helpWidth))
	return exitUsage
}

// aliases are the names users reach for that another tool gives a command.
var aliases = map[string]string{"list": "ls", "dir": "ls", "show": "info", "stat": "info", "inspect": "info", "new": "create",
	"remove": "rm", "delete": "rm", "del": "rm", "save": "export", "dump": "export", "load": "import", "clean": "gc", "prune": "gc",
	"check": "doctor"}

// suggestCommand is the command a mistyped name most likely meant, or "".
func suggestCommand(typed string) string {
	t := strings.ToLower(strings.TrimLeft(typed, "-"))
	if a, ok := aliases[t]; ok {
		return a
	}
	best, bestD := "", 3
	for _, c := range commands {
		d := editDistance(t, c.name)
		if len(t) >= 2 && (strings.HasPrefix(t, c.name) || strings.HasPrefix(c.name, t)) {
			d = 1 // lsit, doc
		}
		if d < bestD && d < max(len(c.name), 2) {
			best, bestD = c.name, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance between a and b: insertions, deletions, substitutions and
// swaps of adjacent bytes.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// usageLine is "usage: sharedarray CMD ARGS", its ARGS wrapped under the
// first one to fit helpWidth.
func usageLine(cmd *command) string {
	head := "usage: sharedarray " + cmd.name + " "
	w := wrap(cmd.args, strings.Repeat(" ", len(head)), helpWidth)
	return head + strings.TrimLeft(w, " ")
}

// printUsage prints a command's help, its flags spelled --flag as the
// README writes them.
func (c *cli) printUsage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n%s\n", usageLine(c.cmd), wrap(c.cmd.help, "", helpWidth))
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
			if strings.HasPrefix(line, "  ") { // a table row (the layouts): kept as written
				fmt.Fprintf(w, "      %s\n", line)
				continue
			}
			fmt.Fprintln(w, wrap(line, "      ", helpWidth))
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

// stamp, when set at link time (go build -ldflags "-X main.stamp=v0.1.0-rc1"),
// is printed by --version instead of anything the build info says.
var stamp string

// version is --version's line: the release, where it came from when it is
// not a tagged module build, then the Go toolchain and platform.
// docs/cli.md lists what each kind of build prints (TestVersionBuilds).
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionLine(stamp, bi) + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// pseudoVersion matches the versions Go gives an untagged commit
// (v0.0.0-20261125205752-a62bd27ed14d) and a modified tree (+dirty).
var pseudoVersion = regexp.MustCompile(`[-.][0-9]{14}-[0-9a-f]{12}|\+dirty$`)

func versionLine(stamp string, bi *debug.BuildInfo) string {
	if stamp != "" {
		return "sharedarray " + stamp
	}
	var v, rev, when string
	modified := false
	if bi != nil {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(len(s.Value), 12)]
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v != "" && v != "(devel)" && !pseudoVersion.MatchString(v) {
		return "sharedarray " + v // go install ...@v0.1.0, or a clean clone at a tag
	}
	s := "sharedarray " + appversion.Version + "-devel"
	switch {
	case rev == "":
		s += " (no VCS stamp)"
	case modified:
		s += " (" + rev + "+modified, " + when + ")"
	default:
		s += " (" + rev + ", " + when + ")"
	}
	return s
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
func flagMessage(err error, args []string, fs *flag.FlagSet) string {
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
		if s := suggestFlag(name, fs); s != "" {
			return "unknown flag " + typed(name) + "; did you mean " + s + "?"
		}
		return "unknown flag " + typed(name) + " (operands that start with '-' go after --)"
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

// suggestFlag is the flag of fs a mistyped one most likely meant ("-l"
// for --long), spelled as the help spells it, or "".
func suggestFlag(typed string, fs *flag.FlagSet) string {
	if fs == nil || strings.Trim(typed, "0123456789.") == "" {
		return "" // -1: an operand (a negative number), not a flag
	}
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(typed, f.Name)
		if len(f.Name) == 1 { // -l: only for a word it starts (--long), not for any other letter
			d = 3
			if len(typed) > 1 && strings.HasPrefix(typed, f.Name) {
				d = 1
			}
		}
		if d < bestD && d < max(len(f.Name), 2) {
			best, bestD = f.Name, d
		}
	})
	switch {
	case best == "":
		return ""
	case len(best) == 1:
		return "-" + best
	}
	return "--" + best
}

// want checks the number of positional arguments and names the missing or
// extra ones.
func (c *cli) want(args []string, n int) bool {
	if len(args) == n {
		return true
	}
	var names []string // the operands of the usage line: NAME SHAPE DTYPE
	for _, w := range strings.Fields(c.cmd.args) {
		if !strings.HasPrefix(w, "[") && !strings.HasPrefix(w, "-") {
			names = append(names, w)
		}
	}
	if len(names) == n && len(args) < n {
		missing := names[len(args):]
		what := "missing " + missing[len(missing)-1]
		if len(missing) > 1 {
			what = "missing " + strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
		}
		if len(args) > 0 {
			var got []string
			for i, a := range args {
				got = append(got, names[i]+"="+quote(a))
			}
			what += " (got " + strings.Join(got, ", ") + ")"
		}
		return c.usageError("%s", what)
	}
	if len(args) > n {
		extra := make([]string, len(args)-n)
		for i, a := range args[n:] {
			extra[i] = quote(a)
		}
		if n == 0 {
			return c.usageError("takes no operands; unexpected %s", strings.Join(extra, " "))
		}
		return c.usageError("too many operands: %s after %s", strings.Join(extra, " "), strings.Join(names, " "))
	}
	return c.usageError("want %d operand(s), got %d", n, len(args))
}

// usageError reports a wrong command line (exit status 2).
func (c *cli) usageError(format string, a ...any) bool {
	fmt.Fprintln(c.stderr, fitLine("sharedarray: "+c.cmd.name+": "+visible(fmt.Sprintf(format, a...))))
	fmt.Fprintf(c.stderr, "%s\nRun 'sharedarray %s --help' for more.\n", usageLine(c.cmd), c.cmd.name)
	return false
}

// fail prints "sharedarray: OP NAME: CAUSE" and returns exitFail. name is
// the user's spelling of what failed; the library's own prefixes and
// names are dropped from the cause.
func (c *cli) fail(name string, err error) int {
	c.report(name, err)
	return exitFail
}

// warnf prints a message that is not an error of one operand (a
// summary, a warning), fitted to the terminal like every other.
func (c *cli) warnf(format string, a ...any) {
	fmt.Fprintln(c.stderr, fitLine(fmt.Sprintf(format, a...)))
}

// notef prints "sharedarray: OP NAME: TEXT", fitted like an error: a note
// about one array.
func (c *cli) notef(name, format string, a ...any) {
	fmt.Fprintln(c.stderr, fitMessage("sharedarray: "+c.cmd.name+" "+quote(name)+":", fmt.Sprintf(format, a...)))
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
	var se *sharedarray.SpaceError
	if errors.As(err, &se) {
		first, rest, _ := strings.Cut(spaceMessage(op, se), "\n")
		return fitMessage(s+":", first) + "\n" + rest
	}
	c := cause(err)
	if errors.Is(err, syscall.ELOOP) && isShmLink(name) {
		c = "is a symbolic link (arrays in /dev/shm are never opened through links)"
	}
	isShm := name != "" && (!strings.Contains(name, "://") || strings.HasPrefix(name, "shm://"))
	if isShm && errors.Is(err, fs.ErrNotExist) {
		switch op {
		case "info", "rm", "export":
			c += " ('sharedarray ls' lists the arrays in /dev/shm)"
		}
	}
	return fitMessage(s+":", visible(c))
}

// fitLine wraps a message longer than a terminal's line: it breaks at the
// last space that keeps a line within helpWidth (that one space dropped;
// a longer word stays whole) and indents the next line by two spaces.
// Nothing else changes, so joining each "\n  " back into one space gives
// the message exactly (quote escapes every newline in a name, so the joins
// are unambiguous).
func fitLine(s string) string { return breakLines(s, helpWidth, "  ", 0) }

// fitMessage is fitLine for "sharedarray: OP NAME: CAUSE": it never breaks
// inside the first len(head) bytes, so the name, which may hold spaces,
// stays whole on the first line, ready to copy.
func fitMessage(head, rest string) string {
	return breakLines(head+" "+rest, helpWidth, "  ", len(head))
}

// breakLines is fitLine with another indent for the lines after the first,
// and no break before byte keep of the first line.
func breakLines(s string, width int, indent string, keep int) string {
	var b strings.Builder
	start := keep // no break before this: the kept head, or the next line's indent
	for len(s) > width {
		ok := func(i int) bool { // a break at i leaves text on this line, after the kept head
			return i >= start && (keep > 0 || strings.TrimSpace(s[start:i]) != "")
		}
		i := strings.LastIndexByte(s[:width+1], ' ')
		if !ok(i) { // no space to break at: the first one after
			i = -1
			for j := start; j < len(s); j++ {
				if s[j] == ' ' && ok(j) {
					i = j
					break
				}
			}
			if i < 0 {
				break
			}
		}
		b.WriteString(s[:i] + "\n")
		s = indent + s[i+1:]
		start, keep = len(indent), 0
	}
	b.WriteString(s)
	return b.String()
}

// spaceMessage says, one line each, what the array needs, every limit that
// refuses it with what to change, and the flag that skips the check. The
// library's own message names the Go option instead.
func spaceMessage(op string, se *sharedarray.SpaceError) string {
	lines := []string{fmt.Sprintf("%v: the array needs %s", se.Err, byteunit.Format(se.Need))}
	memory := false
	for _, e := range append([]*sharedarray.SpaceError{se}, se.Also...) {
		memory = memory || e.Err == syscall.ENOMEM
		l := e.Where
		if e.Path != "" {
			l += " " + quote(e.Path)
		}
		if e.Avail >= 0 {
			l += " has " + byteunit.Format(e.Avail) + " available"
		} else {
			l += " has an unknown amount available"
		}
		if e.Size >= 0 {
			l += " of " + byteunit.Format(e.Size)
		}
		if e.Err == syscall.ENOMEM && e.Avail >= 0 && e.Need <= e.Avail {
			l += ", not enough for the array and the kernel memory that holds and maps it"
		}
		if e.Fix != "" {
			l += ": " + e.Fix
		}
		lines = append(lines, "  - "+wrap(l, "    ", helpWidth)[4:])
	}
	if memory && (op == "create" || op == "import") {
		lines = append(lines, "  "+wrap("--sparse skips the memory check and reserves nothing; the pages are then allocated as they are written, and a writer that finds the memory gone is killed (SIGBUS)", "    ", helpWidth)[4:])
	}
	return strings.Join(lines, "\n")
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
			return nil, fmt.Errorf("--layout %s is not a layout (want dual, dual-v30, numpy1, numpy2 or v30; --help says which SharedArray builds read each)", quote(c.layout))
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
	strides := in.Strides
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
	r, rerr := ringOf(args[0], in)
	if errors.Is(rerr, fs.ErrNotExist) {
		return c.fail(args[0], rerr) // removed since Stat: no stale answer
	}
	if r != nil {
		fmt.Fprintf(tw, "ring\t%s\n", r)
	} else if rerr != nil {
		fmt.Fprintf(tw, "ring\tunreadable: %v\n", rerr)
	}
	held, herr := sharedarray.HoldersOf([]sharedarray.Info{in}) // the file Stat read
	if herr == nil || errors.Is(herr, sharedarray.ErrPermission) && held != nil {
		hs := held[0]
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
	if !fitsInt64(shape, dt.ItemSize()) {
		c.usageError("bad shape %s: %d-byte %s elements in this shape are more than 2^63-1 bytes (NumPy counts the non-zero sizes)", quote(args[1]), dt.ItemSize(), args[2])
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

// fitsInt64 reports whether itemsize times the non-zero sizes of shape
// stays within an int64, as NumPy (and Create) require.
func fitsInt64(shape []int, itemsize int) bool {
	n := uint64(max(itemsize, 1))
	for _, d := range shape {
		if d == 0 {
			continue
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return false
		}
		n = lo
	}
	return true
}

func (c *cli) rm(args []string) int {
	if len(args) == 0 {
		c.usageError("missing NAME: name the arrays to delete")
		return exitUsage
	}
	code := exitOK
	for _, name := range args {
		err := sharedarray.Delete(name)
		if err != nil && c.force && errors.Is(err, sharedarray.ErrFormat) {
			err = forceRemove(name)
		}
		if err != nil {
			if !c.force && errors.Is(err, sharedarray.ErrFormat) {
				// Say what to do next: rm keeps what is not an array
				// unless told otherwise.
				c.notef(name, "%s; kept (--force removes a regular file that is not an array)", visible(cause(err)))
			} else {
				c.report(name, err)
			}
			code = exitFail
			continue
		}
		fmt.Fprintf(c.stdout, "deleted %s\n", quote(name))
	}
	return code
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
	if st.IsDir() { // as export says of a directory, not "bad .npy file"
		return c.fail(file, syscall.EISDIR)
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
