// Package k8stest validates the Kubernetes manifests gavel ships
// (deploy/kubernetes) and documents (docs/scale.md) against the
// Kubernetes API's schemas, through a small Node.js app
// (testapps/k8s, kubernetes-models). Without node or the app's
// node_modules the test skips, saying why, unless GAVEL_REQUIRE_TOOLS is
// set (CI sets it and installs the app).
package k8stest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestManifestsMatchTheKubernetesSchemas(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	app := filepath.Join(root, "testapps", "k8s")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(app, "node_modules", "kubernetes-models"))
	}
	if err != nil {
		if os.Getenv("GAVEL_REQUIRE_TOOLS") != "" {
			t.Fatalf("node and testapps/k8s's packages are needed (npm ci --prefix testapps/k8s): %v", err)
		}
		t.Skipf("needs node and npm ci --prefix testapps/k8s: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "kubernetes", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/kubernetes")
	}
	// The manifests docs/scale.md shows, each a ```yaml block with a kind.
	doc, err := os.ReadFile(filepath.Join(root, "docs", "scale.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	n := 0
	for _, b := range blocks {
		if !strings.Contains(b[1], "apiVersion:") {
			continue
		}
		p := filepath.Join(t.TempDir(), "doc.yaml")
		if err := os.WriteFile(p, []byte(b[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
		n++
	}
	if n == 0 {
		t.Error("docs/scale.md shows no Kubernetes manifest")
	}
	cmd := exec.Command(node, append([]string{"check.mjs"}, files...)...)
	cmd.Dir = app
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0 invalid") {
		t.Fatalf("invalid manifests: %v\n%s", err, out)
	}
	// A broken manifest is caught, so the check can fail.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completionMode: Indexed, completions: four}\n"), 0o644)
	cmd = exec.Command(node, "check.mjs", bad)
	cmd.Dir = app
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("a broken manifest passed: %s", out)
	}
}
