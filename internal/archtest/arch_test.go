// Package archtest keeps the dependency arrows of DESIGN.md honest: each
// package may import only the gavel packages listed for it, and each
// third-party library stays behind the files that own its concept.
package archtest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gavel-eval/gavel"

// allowed lists, for each package, the gavel packages it may depend on
// (directly or not). Packages not listed may not exist without a decision.
var allowed = map[string][]string{
	"datasets":               {"internal/tmpl", "internal/canonjson"},
	"traces":                 {"internal/parquetio"},
	"prompts":                {"internal/tmpl", "internal/yamlstrict"},
	"eval/results":           {"internal/parquetio"},
	"report/stats":           {},
	"internal/parquetio":     {}, // what gavel's Parquet files share: writer configuration and opening; a leaf
	"internal/canonjson":     {}, // the JSON of decoded values, byte for byte as encoding/json writes it, fast; a leaf
	"internal/redact":        {}, // shared redaction of secrets and credentials; a leaf
	"internal/tmpl":          {}, // the null-aware template layer of prompts and dataset ids; a leaf
	"internal/yamlstrict":    {}, // the rules of the strict configuration decoders (keys, paths, messages); a leaf
	"llm":                    {"traces", "internal/redact"},
	"llm/offline":            {"llm", "traces", "internal/redact"}, // the offline stand-in models, served through llm.Provider
	"llm/llmtest":            {},                                   // test helpers (a fault-injecting OpenAI-compatible server); speaks the wire format, imports nothing of ours
	"judges":                 {"llm", "traces", "prompts", "internal/redact", "internal/tmpl", "internal/yamlstrict"},
	"eval":                   {"datasets", "traces", "prompts", "llm", "llm/offline", "judges", "eval/results", "internal/redact", "internal/tmpl", "internal/yamlstrict", "internal/canonjson"},
	"report/traffic":         {"traces", "eval/results", "report/stats"}, // collected traffic: trace table and dashboard figures from span files
	"report":                 {"eval/results", "report/stats", "report/traffic", "traces", "prompts", "internal/redact"},
	"eval/gates":             {"eval", "report", "report/stats", "eval/results", "report/traffic", "traces", "prompts", "internal/redact", "datasets", "llm", "llm/offline", "judges", "internal/tmpl", "internal/yamlstrict", "internal/canonjson", "internal/parquetio"}, // a spec's gates as report gates
	"gaveltest":              {"*"},                                                                                                                                                                                                                                        // evaluations under go test: the runner, the reports' gates
	"report/view":            {"report", "report/traffic", "eval/results", "report/stats", "traces", "internal/redact"},
	"otlp":                   {"traces"},                // OpenTelemetry traces in: OTLP decoding, the GenAI/OpenInference mapping, rolling span files
	"observe":                {"otlp", "traces", "llm"}, // the Go tracing SDK for applications, on OpenTelemetry
	"internal/browsertest":   {},
	"internal/arrowtest":     {}, // tests only: reads Parquet with Arrow, an independent reader
	"internal/duckdbtest":    {}, // tests only: DuckDB reads stored runs (through testapps/duckdb)
	"internal/langchaintest": {}, // tests only: a LangChain.js app's OTLP spans (testapps/langchain)
	"internal/releasetest":   {},
	"internal/k8stest":       {},                    // tests only: the Kubernetes manifests against the API's schemas (testapps/k8s)                    // tests only: the release configuration, the Dockerfile's static build, the Action's install script
	"internal/testrun":       {"internal/cli", "*"}, // test helpers: runs the CLI in-process
	"internal/cli":           {"*"},
	"cmd/gavel":              {"internal/cli", "*"},
	"internal/archtest":      {},
	"scripts/benchscore":     {},
	"scripts/bench":          {}, // side-by-side figures: drives the gavel binary (and DuckDB through Node) as child processes
}

func TestDependencyDirection(t *testing.T) {
	// Each package's own imports are checked against its entry; as every
	// package is checked, what a package reaches through others is
	// bounded by their entries too.
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module+"/")
		if !ok {
			continue
		}
		seen++
		allow, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no entry in the dependency rules: decide its place in DESIGN.md's arrows", pkg)
			continue
		}
		if len(allow) > 0 && allow[len(allow)-1] == "*" {
			continue
		}
		for _, imp := range fields[1:] {
			rel, ours := strings.CutPrefix(imp, module+"/")
			if ours && !slices.Contains(allow, rel) {
				t.Errorf("%s imports %s, which the design does not allow (allowed: %v)", pkg, rel, allow)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d gavel packages", seen)
	}
	for pkg := range allowed {
		if _, err := os.Stat(filepath.Join("../..", pkg)); err != nil {
			t.Errorf("the dependency rules name %s, which does not exist", pkg)
		}
	}
}

// owners confines third-party modules to the files (or, ending in "/", the
// folders) that own their concept. Every module go.mod requires directly
// has an entry: a new dependency is a decision, recorded here and in
// docs/ARCHITECTURE.md.
var owners = map[string][]string{
	"github.com/sashabaranov/go-openai":                               {"llm/openai.go", "observe/openai.go"},
	"golang.org/x/time":                                               {"llm/ratelimit.go"},
	"github.com/spf13/cobra":                                          {"internal/cli/"},
	"github.com/spf13/pflag":                                          {"internal/cli/"},
	"github.com/parquet-go/parquet-go":                                {"internal/parquetio/", "traces/parquet.go", "eval/results/parquet.go", "eval/results/merge.go", "eval/results/partition.go", "datasets/"},
	"github.com/klauspost/compress":                                   {"internal/parquetio/zstd.go"},
	"github.com/apache/arrow-go/v18":                                  {"datasets/parquet.go", "internal/arrowtest/"},
	"go.yaml.in/yaml/v3":                                              {"internal/yamlstrict/", "prompts/file.go", "prompts/write.go", "eval/spec.go", "eval/yamlstrict.go", "eval/plan.go", "eval/redact_spec.go", "eval/promptref.go", "eval/tools.go", "eval/messages.go", "judges/"},
	"go.etcd.io/bbolt":                                                {"llm/cache_bolt.go", "llm/cache_bolt_batch.go", "llm/cache_bolt_damage.go", "llm/cache_bolt_format.go", "llm/cache_bolt_open.go", "llm/cassette.go"},
	"gonum.org/v1/gonum":                                              {"report/stats/"},
	"github.com/ohler55/ojg":                                          {"eval/chain.go", "eval/plan.go"},
	"github.com/pkoukk/tiktoken-go":                                   {"llm/tokenizer.go"},
	"github.com/pkoukk/tiktoken-go-loader":                            {"llm/tokenizer.go"},
	"github.com/santhosh-tekuri/jsonschema/v6":                        {"judges/schema.go"},
	"github.com/schollz/progressbar/v3":                               {"internal/cli/progress.go"},
	"golang.org/x/term":                                               {"cmd/gavel/"},
	"golang.org/x/sync":                                               {"eval/"},
	"github.com/aymanbagabas/go-udiff":                                {"prompts/diff.go"},
	"github.com/sergi/go-diff":                                        {"prompts/diff.go"},
	"go.opentelemetry.io/collector/pdata":                             {"otlp/"},
	"google.golang.org/genproto/googleapis/rpc":                       {"otlp/handler.go"},
	"google.golang.org/protobuf":                                      {"otlp/handler.go"},
	"go.opentelemetry.io/otel":                                        {"observe/"},
	"go.opentelemetry.io/otel/trace":                                  {"observe/"},
	"go.opentelemetry.io/otel/sdk":                                    {"observe/export.go"},
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp": {"observe/export.go"},
}

// testOnly are the modules only tests may import: the gavel binary does
// not link them.
var testOnly = map[string]bool{
	"github.com/yuin/goldmark":     true, // renders the Markdown report as GitHub does
	"github.com/chromedp/chromedp": true, // drives headless Chromium in internal/browsertest
	"github.com/chromedp/cdproto":  true,
}

// moduleOf returns the module of owners or testOnly that import path path
// belongs to, or "".
func moduleOf(path string) string {
	for m := range owners {
		if path == m || strings.HasPrefix(path, m+"/") {
			return m
		}
	}
	for m := range testOnly {
		if path == m || strings.HasPrefix(path, m+"/") {
			return m
		}
	}
	return ""
}

func TestEveryDirectModuleHasAnOwner(t *testing.T) {
	out, err := exec.Command("go", "mod", "edit", "-json", "../../go.mod").Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mod struct {
		Require []struct {
			Path     string
			Indirect bool
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	direct := 0
	for _, r := range mod.Require {
		if r.Indirect {
			continue
		}
		direct++
		if owners[r.Path] == nil && !testOnly[r.Path] {
			t.Errorf("go.mod requires %s directly, but no package owns it: add it to owners (or testOnly) and to docs/ARCHITECTURE.md", r.Path)
		}
	}
	if direct < 5 {
		t.Fatalf("found only %d direct requirements", direct)
	}
}

// goFile is one Go file of the module, parsed.
type goFile struct {
	rel  string // slash-separated, from the module root
	test bool
	ast  *ast.File
}

// moduleFiles parses every Go file of the module at every folder depth,
// skipping testdata, hidden folders and the Node.js test apps.
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	var files []goFile
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(filepath.ToSlash(path), "../../")
		if d.IsDir() {
			name := d.Name()
			if path != "../.." && (name == "testdata" || name == "node_modules" || name == "testapps" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			// A nested module (an example application) is another
			// program, not a part of gavel.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != "../.." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, goFile{rel: rel, test: strings.HasSuffix(rel, "_test.go"), ast: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d Go files", len(files))
	}
	return files
}

func TestThirdPartyContainment(t *testing.T) {
	for _, f := range moduleFiles(t) {
		for _, imp := range f.ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			m := moduleOf(path)
			switch {
			case m == "":
				continue
			case testOnly[m]:
				if !f.test {
					t.Errorf("%s imports %s, which only tests may import", f.rel, path)
				}
			case !f.test && !ownedBy(f.rel, owners[m]):
				t.Errorf("%s imports %s; only %v may", f.rel, path, owners[m])
			}
		}
	}
}

func ownedBy(rel string, files []string) bool {
	for _, a := range files {
		if rel == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a)) {
			return true
		}
	}
	return false
}

// forbidden are the calls and values libraries must not use: the process
// environment, its standard streams, its exit and the global logger belong
// to cmd/gavel, which hands them to the rest through cli.Env.
var forbidden = map[string]map[string]bool{
	"os":  {"Exit": true, "Stdout": true, "Stderr": true, "Stdin": true, "Getenv": true, "LookupEnv": true, "Environ": true, "Setenv": true},
	"fmt": {"Print": true, "Printf": true, "Println": true},
	"log": {"Fatal": true, "Fatalf": true, "Fatalln": true, "Print": true, "Printf": true, "Println": true, "Panic": true, "Panicf": true, "Panicln": true},
}

// mayUseProcess reports whether a file may use the process itself: the
// command's main, the scripts, and tests.
func mayUseProcess(f goFile) bool {
	// gaveltest runs inside go test, as a test's own code does: it reads
	// GAVEL_RECORD and, by default, the API keys from the environment.
	return f.test || strings.HasPrefix(f.rel, "cmd/") || strings.HasPrefix(f.rel, "scripts/") || strings.HasPrefix(f.rel, "gaveltest/")
}

func TestNoProcessStateOutsideMain(t *testing.T) {
	checked := 0
	for _, f := range moduleFiles(t) {
		if mayUseProcess(f) {
			continue
		}
		checked++
		names := map[string]string{} // local name -> import path of os, fmt, log
		for _, imp := range f.ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[path] == nil {
				continue
			}
			name := path
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = path
		}
		if len(names) == 0 {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			if path, ok := names[id.Name]; ok && forbidden[path][sel.Sel.Name] {
				t.Errorf("%s uses %s.%s: only cmd/gavel may touch the process's environment, streams, exit or global logger", f.rel, path, sel.Sel.Name)
			}
			return true
		})
	}
	if checked < 50 {
		t.Fatalf("checked only %d files", checked)
	}
}

// TestArchitectureDocMatchesRules: the package table of
// docs/ARCHITECTURE.md (its first code block) names exactly the packages
// the rules above know, but for folders that hold no Go (embedded files).
func TestArchitectureDocMatchesRules(t *testing.T) {
	data, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(string(data), "```", 3)
	if len(parts) < 3 {
		t.Fatal("docs/ARCHITECTURE.md has no package table")
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(parts[1]), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			documented[strings.TrimSuffix(f[0], "/")] = true
		}
	}
	for pkg := range allowed {
		if !documented[pkg] {
			t.Errorf("package %s is in the dependency rules but not in docs/ARCHITECTURE.md's table", pkg)
		}
	}
	for pkg := range documented {
		if _, ok := allowed[pkg]; ok {
			continue
		}
		goFiles, _ := filepath.Glob(filepath.Join("../..", pkg, "*.go"))
		if len(goFiles) > 0 {
			t.Errorf("docs/ARCHITECTURE.md lists %s, which has no entry in the dependency rules", pkg)
		}
	}
}
