// Package archtest keeps the dependency arrows of DESIGN.md honest: each
// package may import only the gavel packages listed for it, and each
// third-party library stays behind the files that own its concept.
package archtest

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gavel-eval/gavel"

// allowed lists, for each package, the gavel packages it may depend on
// (directly or not). Packages not listed may not exist without a decision.
var allowed = map[string][]string{
	"datasets":             {"internal/tmpl"},
	"traces":               {},
	"prompts":              {"internal/tmpl"},
	"eval/results":         {},
	"report/stats":         {},
	"internal/redact":      {}, // shared redaction of secrets and credentials; a leaf
	"internal/tmpl":        {}, // the null-aware template layer of prompts and dataset ids; a leaf
	"llm":                  {"traces", "internal/redact"},
	"llm/offline":          {"llm", "traces", "internal/redact"}, // the offline stand-in models, served through llm.Provider
	"llm/llmtest":          {},                                   // test helpers (a fault-injecting OpenAI-compatible server); speaks the wire format, imports nothing of ours
	"judges":               {"llm", "traces", "prompts", "internal/redact", "internal/tmpl"},
	"eval":                 {"datasets", "traces", "prompts", "llm", "llm/offline", "judges", "eval/results", "internal/redact", "internal/tmpl"},
	"report":               {"eval/results", "report/stats", "traces", "internal/redact"},
	"report/view":          {"report", "eval/results", "report/stats", "traces", "internal/redact"},
	"internal/browsertest": {},
	"internal/duckdbtest":  {},                    // tests only: DuckDB reads stored runs (through testapps/duckdb)
	"internal/testrun":     {"internal/cli", "*"}, // test helpers: runs the CLI in-process
	"internal/cli":         {"*"},
	"cmd/gavel":            {"internal/cli", "*"},
	"internal/archtest":    {},
	"scripts/benchscore":   {},
}

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "-f", "{{.ImportPath}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			pkgs = append(pkgs, rel)
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("found only %d gavel packages: %v", len(pkgs), pkgs)
	}
	for _, pkg := range pkgs {
		allow, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no entry in the dependency rules: decide its place in DESIGN.md's arrows", pkg)
			continue
		}
		if len(allow) > 0 && allow[len(allow)-1] == "*" {
			continue
		}
		deps, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			rel, ours := strings.CutPrefix(d, module+"/")
			if !ours || rel == pkg {
				continue
			}
			if !contains(allow, rel) {
				t.Errorf("%s depends on %s, which the design does not allow (allowed: %v)", pkg, rel, allow)
			}
		}
	}
}

// owners confines third-party libraries to the files that own them.
var owners = map[string][]string{
	"github.com/sashabaranov/go-openai": {"llm/openai.go"},
	"golang.org/x/time":                 {"llm/ratelimit.go"},
	"github.com/spf13/cobra":            {"internal/cli/"},
	"github.com/parquet-go/parquet-go":  {"traces/parquet.go", "eval/results/parquet.go", "eval/results/merge.go", "datasets/"},
	"github.com/apache/arrow-go/v18":    {"datasets/parquet.go"},
	"go.yaml.in/yaml/v3":                {"eval/spec.go", "eval/yamlstrict.go", "eval/plan.go", "eval/redact_spec.go", "judges/"},
}

func TestThirdPartyContainment(t *testing.T) {
	files, err := filepath.Glob("../../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../*/*/*.go")
	files = append(files, more...)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		rel := strings.TrimPrefix(filepath.ToSlash(f), "../../")
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for lib, allowedFiles := range owners {
				if path != lib && !strings.HasPrefix(path, lib+"/") {
					continue
				}
				ok := false
				for _, a := range allowedFiles {
					if rel == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a)) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", rel, path, allowedFiles)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files", checked)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
