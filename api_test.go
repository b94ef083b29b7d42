package sharedarray

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryNameHasExample: every exported name of the package (as go doc
// lists it for this platform) appears in a runnable example (a func
// Example... with an // Output: line, in a _test.go file here or under
// examples/) or in a Go snippet of README.md. A type counts as used when
// an example names it; its Error, Unwrap, Is and String methods then
// count too (fmt and errors call them).
func TestEveryNameHasExample(t *testing.T) {
	// Every file, whatever its build constraints: the API of any platform.
	p := packageDoc(t, ".", "github.com/sharedarray/sharedarray")

	var corpus strings.Builder
	exampleFiles, _ := filepath.Glob("*_test.go")
	more, _ := filepath.Glob("examples/*/*_test.go")
	for _, name := range append(exampleFiles, more...) {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(name)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fd.Name.Name, "Example") {
				continue
			}
			body := string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
			if strings.Contains(body, "// Output:") {
				corpus.WriteString(body)
			}
		}
		if strings.HasPrefix(filepath.Base(name), "example") {
			corpus.Write(src) // helpers beside the examples (func describe)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(readme, -1) {
		corpus.Write(m[1])
	}
	text := corpus.String()
	used := func(name string) bool {
		return regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(text)
	}

	var missing []string
	check := func(name, pattern string) {
		if !used(pattern) {
			missing = append(missing, name)
		}
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, n := range v.Names {
				if ast.IsExported(n) {
					check(n, n)
				}
			}
		}
	}
	values(p.Consts)
	values(p.Vars)
	for _, f := range p.Funcs {
		check(f.Name, f.Name)
	}
	for _, typ := range p.Types {
		check(typ.Name, typ.Name)
		values(typ.Consts)
		values(typ.Vars)
		for _, f := range typ.Funcs {
			check(f.Name, f.Name)
		}
		for _, m := range typ.Methods {
			switch m.Name {
			case "Error", "Unwrap", "Is", "String":
				if used(typ.Name) {
					continue
				}
			}
			check(typ.Name+"."+m.Name, "."+m.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("exported names no runnable example or README snippet uses: %s", strings.Join(missing, " "))
	}
}
