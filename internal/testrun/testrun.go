// Package testrun runs gavel's CLI in-process for tests of other packages
// (the report, the viewer, the browser tests) and writes the datasets
// those tests share. It is imported by tests only.
package testrun

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/internal/cli"
)

// Gavel runs the CLI with args and returns its exit code and stderr. The
// environment is empty (no API key) and the clock real.
func Gavel(tb testing.TB, args ...string) (int, string) {
	tb.Helper()
	var stderr bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
		Getenv: func(string) string { return "" }, Now: time.Now, Version: "v0.0.0-test"}
	return cli.Main(context.Background(), args, env), stderr.String()
}

// Must runs the CLI and fails the test unless it exits with one of ok
// (default: 0).
func Must(tb testing.TB, ok []int, args ...string) {
	tb.Helper()
	if ok == nil {
		ok = []int{0}
	}
	code, stderr := Gavel(tb, args...)
	for _, c := range ok {
		if c == code {
			return
		}
	}
	tb.Fatalf("gavel %s exited %d: %s", strings.Join(args, " "), code, stderr)
}

// LargeSpec writes, in a new directory, a dataset of n arithmetic word
// problems and a spec running them through two variants of the offline
// model (plain and hinted) with one judge (correct); it returns the
// spec's path.
func LargeSpec(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	f, err := os.Create(filepath.Join(dir, "problems.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		a, b, c := i%97+1, i%89+1, i%7+2
		fmt.Fprintf(w, `{"id":"p%05d","question":"Tom has %d apples and gets %d bags of %d more. How many apples?","expression":"%d + %d * %d","answer":"%d"}`+"\n", i, a, b, c, a, b, c, a+b*c)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	spec := filepath.Join(dir, "gavel.yaml")
	if err := os.WriteFile(spec, []byte(`name: large
dataset: {path: problems.jsonl, id: "{{.id}}"}
variants:
  - {name: plain, model: offline/calc, prompt: "Solve: {{.example.question}}", params: {temperature: 0}}
  - {name: hinted, model: offline/calc, prompt: "{{.example.question}} Hint: {{.example.expression}}", params: {temperature: 0}}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(-?[\\d,.]+)"}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
`), 0o644); err != nil {
		tb.Fatal(err)
	}
	return spec
}
