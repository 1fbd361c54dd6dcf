package releasetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// required reports whether outside tools must be there (CI sets it).
func required() bool { return os.Getenv("GAVEL_REQUIRE_TOOLS") != "" }

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeRelease serves a release of version 9.9.9: an archive for this
// machine holding a gavel that prints its version, and checksums.txt
// (with a wrong sum when tamper is set).
func fakeRelease(t *testing.T, tamper bool) (*httptest.Server, *int) {
	t.Helper()
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("the fake release is built for linux/amd64 and linux/arm64")
	}
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	script := []byte("#!/bin/sh\necho 'gavel v9.9.9'\n")
	tw.WriteHeader(&tar.Header{Name: "gavel", Mode: 0o755, Size: int64(len(script))})
	tw.Write(script)
	readme := []byte("readme\n")
	tw.WriteHeader(&tar.Header{Name: "README.md", Mode: 0o644, Size: int64(len(readme))})
	tw.Write(readme)
	tw.Close()
	gz.Close()
	name := fmt.Sprintf("gavel_9.9.9_linux_%s.tar.gz", runtime.GOARCH)
	sum := sha256.Sum256(archive.Bytes())
	hexSum := hex.EncodeToString(sum[:])
	if tamper {
		hexSum = strings.Repeat("0", 64)
	}
	checksums := fmt.Sprintf("%s  %s\n%s  gavel_9.9.9_darwin_arm64.tar.gz\n", hexSum, name, strings.Repeat("1", 64))
	hits := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		switch r.URL.Path {
		case "/v9.9.9/" + name:
			w.Write(archive.Bytes())
		case "/v9.9.9/checksums.txt":
			w.Write([]byte(checksums))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func runInstall(t *testing.T, url, version string) (string, string, string, error) {
	t.Helper()
	bin := t.TempDir()
	ghPath := filepath.Join(t.TempDir(), "github_path")
	cmd := exec.Command("bash", filepath.Join(root(t), "scripts", "action", "install-gavel.sh"))
	cmd.Env = append(os.Environ(), "GAVEL_VERSION="+version, "GAVEL_RELEASES_URL="+url, "GAVEL_BIN_DIR="+bin, "GITHUB_PATH="+ghPath)
	out, err := cmd.CombinedOutput()
	return string(out), bin, ghPath, err
}

// The action's install script installs the archive of this OS and
// architecture once its checksum matches, adds it to the PATH of later
// steps, and refuses a mismatch, a missing entry and a bad version.
func TestInstallScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	srv, _ := fakeRelease(t, false)
	out, bin, ghPath, err := runInstall(t, srv.URL, "v9.9.9")
	if err != nil || !strings.Contains(out, "gavel v9.9.9") {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(bin, "gavel")); err != nil {
		t.Errorf("not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(bin, "README.md")); err == nil {
		t.Error("the whole archive was unpacked")
	}
	if b, _ := os.ReadFile(ghPath); strings.TrimSpace(string(b)) != bin {
		t.Errorf("GITHUB_PATH holds %q, want %q", b, bin)
	}

	bad, _ := fakeRelease(t, true)
	out, bin, _, err = runInstall(t, bad.URL, "v9.9.9")
	if err == nil || !strings.Contains(out, "checksum mismatch") {
		t.Errorf("a tampered archive: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(bin, "gavel")); err == nil {
		t.Error("a tampered archive was installed")
	}
	if out, _, _, err := runInstall(t, srv.URL, "v9.9.8"); err == nil {
		t.Errorf("a missing release installed: %s", out)
	}
	if out, _, _, err := runInstall(t, srv.URL, "v1;touch /tmp/pwned"); err == nil || !strings.Contains(out, "bad version") {
		t.Errorf("a hostile version: %v %s", err, out)
	}
}

// action.yml is a composite action that needs a pinned version and never
// puts an input's text into a script.
func TestActionDefinition(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Name   string `yaml:"name"`
		Inputs map[string]struct {
			Required bool `yaml:"required"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Run   string            `yaml:"run"`
				Shell string            `yaml:"shell"`
				Env   map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || a.Runs.Using != "composite" || !a.Inputs["version"].Required || len(a.Runs.Steps) < 1 {
		t.Fatalf("action.yml: %+v", a)
	}
	for i, s := range a.Runs.Steps {
		if s.Shell != "bash" || strings.Contains(s.Run, "${{") {
			t.Errorf("step %d: shell %q; its script holds an expression: %q", i, s.Shell, s.Run)
		}
	}
	if !strings.Contains(a.Runs.Steps[0].Run, "scripts/action/install-gavel.sh") {
		t.Error("the first step does not run the install script")
	}
}

// The image builds a static binary (CGO off, no interpreter) and runs it
// as a non-root user on distroless, from the Go version go.mod names.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	mod, _ := os.ReadFile(filepath.Join(root(t), "go.mod"))
	goLine := ""
	for _, l := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(l, "go "); ok {
			goLine = strings.Join(strings.Split(v, ".")[:2], ".")
		}
	}
	var froms []string
	user := ""
	for _, l := range strings.Split(df, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "FROM" {
			froms = append(froms, f[1])
		}
		if len(f) >= 2 && f[0] == "USER" {
			user = f[1]
		}
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "golang:"+goLine+".") || !strings.HasPrefix(froms[1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[1], ":nonroot") {
		t.Errorf("stages %v (go.mod says go %s)", froms, goLine)
	}
	if user == "" || strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q: want a non-root user", user)
	}
	if !strings.Contains(df, "CGO_ENABLED=0 go build") {
		t.Error("the build is not CGO_ENABLED=0")
	}
	if testing.Short() {
		t.Skip("the static build (-short skips it)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the static check reads ELF")
	}
	out := filepath.Join(t.TempDir(), "gavel")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/gavel")
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
}

// goreleaserVersion is the release tool's pinned version.
const goreleaserVersion = "v2.17.0"

// The release configuration passes goreleaser's own check.
func TestGoreleaserCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds goreleaser (-short skips it)")
	}
	if !required() {
		t.Skip("set GAVEL_REQUIRE_TOOLS to fetch and run goreleaser " + goreleaserVersion + " (CI does)")
	}
	cmd := exec.Command("go", "run", "github.com/goreleaser/goreleaser/v2@"+goreleaserVersion, "check")
	cmd.Dir = root(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}

// actionlintVersion is the workflow linter's pinned version.
const actionlintVersion = "v1.7.12"

// The GitHub Actions workflows the docs show pass actionlint (its own
// checks of syntax, expressions, job needs and matrix use).
func TestDocWorkflows(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches actionlint (-short skips it)")
	}
	if !required() {
		t.Skip("set GAVEL_REQUIRE_TOOLS to fetch and run actionlint " + actionlintVersion + " (CI does)")
	}
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, doc := range []string{"docs/scale.md", "docs/ci.md"} {
		b, err := os.ReadFile(filepath.Join(root(t), doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range strings.Split(string(b), "```yaml\n")[1:] {
			body, _, _ := strings.Cut(block, "```")
			if !strings.Contains(body, "\njobs:") {
				continue
			}
			n++
			if err := os.WriteFile(filepath.Join(wf, fmt.Sprintf("doc%d.yml", n)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n < 2 {
		t.Fatalf("%d workflows found in the docs, want the CI one and the shard matrix", n)
	}
	// actionlint looks for a repository around the workflows.
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	cmd := exec.Command("go", "run", "github.com/rhysd/actionlint/cmd/actionlint@"+actionlintVersion, "-shellcheck=", "-pyflakes=")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}
