package sharedarray

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocNamesNoRemovedAPI: the godoc of the package and of numtype names
// none of the identifiers the v1 API review removed or unexported
// (docs/api-review.md's tables). A doc comment that still points a reader
// at one (the Dtype doc named "the constructors Bytes, Str and Void" after
// they were unexported) sends them to a name that does not exist.
func TestDocNamesNoRemovedAPI(t *testing.T) {
	t.Parallel()
	removed := regexp.MustCompile(`\b(?:Str|Void|ReadLimits|HoldersOfInfos|SameFile|Ndim|MaxDims|Carries|CgroupMemory|Limits\.Check|Limits\.Room|CopyTo|CopyFrom|NextSlot|MonotonicNanos|ReaderOption|FrameBytes\(\)|Generation\(\))\b|Layouts\(\)|Bytes\(n\)`)
	for _, dir := range []string{".", "numtype"} {
		for _, text := range exportedDocs(t, dir) {
			for _, m := range removed.FindAllStringIndex(text, -1) {
				lo, hi := max(m[0]-60, 0), min(m[1]+60, len(text))
				t.Errorf("godoc of %s names removed %q: ...%s...", dir, text[m[0]:m[1]], text[lo:hi])
			}
		}
	}
}

// exportedDocs returns what go doc -all shows of the package in dir: the
// doc comments of the package and of its exported declarations (methods
// and struct fields included), from every file whatever its build tags.
func exportedDocs(t *testing.T, dir string) []string {
	t.Helper()
	p := packageDoc(t, dir, "x")
	out := []string{p.Doc}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			out = append(out, v.Doc)
			for _, s := range v.Decl.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok {
					out = append(out, vs.Doc.Text(), vs.Comment.Text())
				}
			}
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			out = append(out, f.Doc)
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(p.Funcs)
	for _, ty := range p.Types {
		out = append(out, ty.Doc)
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		funcs(ty.Methods)
		for _, s := range ty.Decl.Specs {
			if ts, ok := s.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					for _, f := range st.Fields.List {
						out = append(out, f.Doc.Text(), f.Comment.Text())
					}
				}
			}
		}
	}
	return out
}

// packageDoc is go/doc's view of the package in dir, built from every
// non-test .go file there whatever its build constraints, so it holds the
// API of every platform.
func packageDoc(t *testing.T, dir, importPath string) *doc.Package {
	t.Helper()
	fset := token.NewFileSet()
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
