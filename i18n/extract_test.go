package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// templateT finds the message ids of templates: {{.T "…"}}, {{$.T "…"}}.
var templateT = regexp.MustCompile(`\.T\s+"((?:[^"\\]|\\.)*)"`)

// templateIDs extracts the message ids of every template in dir.
func templateIDs(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s (%v)", dir, err)
	}
	ids := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateT.FindAllStringSubmatch(string(b), -1) {
			id, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				t.Fatalf("%s: %q: %v", f, m[1], err)
			}
			ids[id] = filepath.Base(f)
		}
	}
	return ids
}

// goIDs extracts message ids from the Go files of dir (tests excluded):
// the first argument of calls to msg, T, errValidation, the string
// constants whose names start with msg, and the Message fields of
// composite literals (the core's *Error values).
func goIDs(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	fset := token.NewFileSet()
	lit := func(e ast.Expr, where string) {
		if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil && s != "" {
				ids[s] = where
			}
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				switch name {
				case "msg", "T":
					if len(n.Args) > 0 {
						lit(n.Args[0], base)
					}
				case "errValidation":
					if len(n.Args) > 1 {
						lit(n.Args[1], base)
					}
				}
			case *ast.ValueSpec:
				for i, nm := range n.Names {
					if strings.HasPrefix(nm.Name, "msg") && i < len(n.Values) {
						lit(n.Values[i], base)
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Message" {
					lit(n.Value, base)
				}
			}
			return true
		})
	}
	return ids
}

// TestCatalogHasEveryMessage checks that every message id the program
// uses — in the page templates, in package web, and in the core's public
// error messages — is in the English catalog, which translators copy.
func TestCatalogHasEveryMessage(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	for id, where := range templateIDs(t, filepath.Join("..", "web", "templates")) {
		used[id] = where
	}
	for id, where := range goIDs(t, filepath.Join("..", "web")) {
		used[id] = where
	}
	core := goIDs(t, "..")
	if len(core) < 10 {
		t.Fatalf("found only %d messages in the core: the extraction is broken", len(core))
	}
	for id, where := range core {
		used[id] = "core " + where
	}
	var missing []string
	for id, where := range used {
		if !c.Has(id) {
			missing = append(missing, where+": "+strconv.Quote(id))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d message ids are not in locales/en.json:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if testing.Verbose() {
		var unused []string
		for _, id := range c.IDs() {
			if _, ok := used[id]; !ok {
				unused = append(unused, strconv.Quote(id))
			}
		}
		if len(unused) > 0 {
			t.Logf("ids in en.json that no code uses (kept for dynamic use):\n%s", strings.Join(unused, "\n"))
		}
	}
}
