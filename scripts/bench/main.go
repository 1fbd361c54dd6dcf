// Command bench measures the gavel binary side by side, in one invocation,
// and prints a table per section: each figure as measured, its goal, and
// whether the goal is met.
//
//	go build -o bin/gavel ./cmd/gavel && go run ./scripts/bench -gavel bin/gavel
//
// Flags: -gavel BINARY; -quick (small sizes, about half a minute: N = 500
// at concurrency 16 and 64, 100,000 rows to score); -only a comma list of
// sections; -dir DIR to work in DIR and keep every spec, dataset and run
// there (by default a temporary directory, removed as it goes).
//
// Sections (-only runner,score,startup,html):
//
//   - runner: `gavel run` against an in-process OpenAI-compatible server on
//     127.0.0.1 that answers every request after 50 ms, for a chain call and
//     an llm_rubric judge call per example and variant;
//   - score: `gavel score` with one levenshtein judge over a Parquet file,
//     next to DuckDB computing the same distances (through Node and
//     testapps/duckdb's @duckdb/node-api, see duckdb.mjs);
//   - startup: `gavel version` and `gavel run --help`;
//   - html: `gavel compare --format html` of a 10,000 × 2 offline run.
//
// It drives gavel as a child process (it imports nothing of gavel's) and
// takes each child's wall time and peak RSS from its rusage. A missed goal
// is reported, never an error: the exit status is non-zero only when
// something fails (a child exits non-zero; its stderr is printed).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sections, in the order they run.
var sections = []string{"runner", "score", "startup", "html"}

type config struct {
	gavel string // absolute path of the gavel binary
	quick bool
	dir   string // work directory
	keep  bool   // -dir was given: leave every file there
	root  string // the module's root (for testapps/duckdb and duckdb.mjs)
	env   []string
}

func main() {
	gavel := flag.String("gavel", "bin/gavel", "the gavel binary to measure")
	quick := flag.Bool("quick", false, "small sizes, for a smoke run (about a minute)")
	only := flag.String("only", "", "comma-separated sections to run (default all: "+strings.Join(sections, ",")+")")
	dir := flag.String("dir", "", "work directory, kept with every spec, dataset and run in it (default: a temporary one, removed as it goes)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	want, err := pickSections(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, *gavel, *quick, *dir, want)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func pickSections(only string) ([]string, error) {
	if strings.TrimSpace(only) == "" {
		return sections, nil
	}
	var out []string
	for s := range strings.SplitSeq(only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(sections, s) {
			return nil, fmt.Errorf("-only: unknown section %q (known: %s)", s, strings.Join(sections, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-only: no section named")
	}
	return out, nil
}

func run(ctx context.Context, gavel string, quick bool, dir string, want []string) error {
	abs, err := filepath.Abs(gavel)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return fmt.Errorf("-gavel %s: not a file (build it: go build -o bin/gavel ./cmd/gavel)", gavel)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	keep := dir != ""
	if dir == "" {
		d, err := os.MkdirTemp("", "gavel-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	cfg := &config{gavel: abs, quick: quick, dir: dir, root: root, keep: keep}
	// gavel's model-call cache goes to the work directory, never the
	// user's; the runs below also pass --cache off.
	cfg.env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "NO_COLOR=1")

	version, err := cfg.child(ctx, "", cfg.gavel, "version")
	if err != nil {
		return err
	}
	fmt.Printf("command: %s\n", invocation())
	fmt.Printf("binary: %s (gavel version: %s)\n", gavel, strings.TrimSpace(version.stdout))
	fmt.Printf("machine: %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if quick {
		fmt.Println("mode: -quick (small sizes; figures whose goal is set at a larger size are not measured)")
	}
	fmt.Println()
	for _, s := range want {
		sub := filepath.Join(dir, s)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		var t *table
		switch s {
		case "runner":
			t, err = benchRunner(ctx, cfg, sub)
		case "score":
			t, err = benchScore(ctx, cfg, sub)
		case "startup":
			t, err = benchStartup(ctx, cfg)
		case "html":
			t, err = benchHTML(ctx, cfg, sub)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		t.print(os.Stdout)
		// Each section's files go as soon as it is done: the disk holds
		// one section's data at a time.
		cfg.remove(sub)
	}
	return nil
}

// invocation is the command line that produced the tables.
func invocation() string {
	args := []string{"go run ./scripts/bench"}
	flag.Visit(func(f *flag.Flag) {
		if f.Value.String() == "true" && f.DefValue == "false" {
			args = append(args, "-"+f.Name)
			return
		}
		args = append(args, "-"+f.Name, f.Value.String())
	})
	return strings.Join(args, " ")
}

// moduleRoot finds the directory of gavel's go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/gavel-eval/gavel\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("run it from within the gavel module (no go.mod of github.com/gavel-eval/gavel found above the working directory)")
		}
		d = parent
	}
}

// remove deletes a work file or directory, unless -dir asked to keep them.
func (c *config) remove(path string) {
	if !c.keep {
		_ = os.RemoveAll(path)
	}
}

// result is what one child process did.
type result struct {
	wall           time.Duration
	maxRSS         int64 // bytes
	stdout, stderr string
}

// childTimeout bounds every child process.
const childTimeout = 15 * time.Minute

// child runs name with args in dir (the work directory when empty) and
// returns its wall time and peak RSS. A child that exits non-zero is an
// error carrying its stderr.
func (c *config) child(ctx context.Context, dir, name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.env
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = c.dir
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = maxRSSBytes(ru)
		}
	}
	if err != nil {
		what := filepath.Base(name) + " " + strings.Join(args, " ")
		if ctx.Err() == context.DeadlineExceeded {
			return r, fmt.Errorf("%s: killed after %s\nstderr:\n%s", what, childTimeout, tail(r.stderr))
		}
		return r, fmt.Errorf("%s: %v\nstderr:\n%s", what, err, tail(r.stderr))
	}
	return r, nil
}

// maxRSSBytes converts rusage's ru_maxrss (KiB on Linux, bytes on macOS).
func maxRSSBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

// tail keeps the end of a long stderr.
func tail(s string) string {
	const max = 8000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// table is one section's figures.
type table struct {
	title    string
	commands []string
	notes    []string
	rows     [][4]string
}

// add appends a figure; met is "" when there is no goal.
func (t *table) add(figure, measured, goal, met string) {
	if goal == "" {
		goal, met = "—", "—"
	}
	t.rows = append(t.rows, [4]string{figure, measured, goal, met})
}

// goal appends a figure with a goal and whether it holds.
func (t *table) goal(figure, measured, goal string, ok bool) {
	met := "no"
	if ok {
		met = "yes"
	}
	t.add(figure, measured, goal, met)
}

func (t *table) print(w *os.File) {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", t.title)
	for _, c := range t.commands {
		fmt.Fprintf(&b, "    %s\n", c)
	}
	if len(t.commands) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| figure | measured | goal | met |\n| --- | --- | --- | --- |\n")
	for _, r := range t.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3])
	}
	for _, n := range t.notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	b.WriteString("\n")
	_, _ = w.WriteString(b.String())
}

// Formatting.

const (
	mib = 1 << 20
	mb  = 1_000_000
)

func fmtMiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/mib) }

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// fmtInt writes n with thousands separators.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// writeFile writes a file of the work directory.
func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
