//go:build ignore

// apicount counts the exported identifiers of the package in the current
// directory as go doc shows them for this GOOS/GOARCH: top-level consts,
// vars, funcs (constructors included), types, and the methods of exported
// types (promoted ones included). Struct fields are not counted.
//
//	go run scripts/apicount.go [-v]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	verbose := flag.Bool("v", false, "list the names")
	flag.Parse()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}\n{{.ImportPath}}\n{{join .GoFiles \"\\n\"}}\n{{join .CgoFiles \"\\n\"}}", ".").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lines := strings.Fields(string(out))
	dir, path := lines[0], lines[1]
	fset := token.NewFileSet()
	var files []*ast.File
	for _, f := range lines[2:] {
		af, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.ParseComments)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		files = append(files, af)
	}
	p, err := doc.NewFromFiles(fset, files, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	count := map[string][]string{}
	values := func(kind string, vs []*doc.Value) {
		for _, v := range vs {
			for _, n := range v.Names {
				if ast.IsExported(n) {
					count[kind] = append(count[kind], n)
				}
			}
		}
	}
	values("const", p.Consts)
	values("var", p.Vars)
	for _, f := range p.Funcs {
		count["func"] = append(count["func"], f.Name)
	}
	for _, t := range p.Types {
		count["type"] = append(count["type"], t.Name)
		values("const", t.Consts)
		values("var", t.Vars)
		for _, f := range t.Funcs {
			count["func"] = append(count["func"], f.Name)
		}
		for _, m := range t.Methods {
			count["method"] = append(count["method"], t.Name+"."+m.Name)
		}
	}
	total := 0
	kinds := []string{"const", "var", "func", "type", "method"}
	for _, k := range kinds {
		total += len(count[k])
		fmt.Printf("%-7s %d\n", k, len(count[k]))
	}
	fmt.Printf("%-7s %d\n", "total", total)
	if *verbose {
		for _, k := range kinds {
			sort.Strings(count[k])
			fmt.Printf("%s: %s\n", k, strings.Join(count[k], " "))
		}
	}
}
