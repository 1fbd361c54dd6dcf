package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// startupRuns is how many times each start-up command runs.
const startupRuns = 10

func benchStartup(ctx context.Context, cfg *config) (*table, error) {
	t := &table{
		title:    fmt.Sprintf("startup: median of %d runs", startupRuns),
		commands: []string{"gavel version", "gavel run --help"},
	}
	for _, args := range [][]string{{"version"}, {"run", "--help"}} {
		walls := make([]time.Duration, 0, startupRuns)
		var rss []int64
		for range startupRuns {
			r, err := cfg.child(ctx, "", cfg.gavel, args...)
			if err != nil {
				return nil, err
			}
			walls = append(walls, r.wall)
			rss = append(rss, r.maxRSS)
		}
		slices.Sort(rss)
		name := "gavel " + args[0]
		if len(args) > 1 {
			name += " " + args[1]
		}
		t.add(name+": wall", fmt.Sprintf("%s (min %s, max %s)", fmtDur(median(walls)), fmtDur(slices.Min(walls)), fmtDur(slices.Max(walls))), "", "")
		t.add(name+": peak RSS", fmtMiB(rss[len(rss)/2]), "", "")
	}
	return t, nil
}

// htmlSpec is testrun.LargeSpec's: two variants of the offline model, a
// two-step chain and one judge.
const htmlSpec = `name: bench-html
dataset: {path: problems.jsonl, id: "{{.id}}"}
variants:
  - {name: plain, model: offline/calc, prompt: "Solve: {{.example.question}}", params: {temperature: 0}}
  - {name: hinted, model: offline/calc, prompt: "{{.example.question}} Hint: {{.example.expression}}", params: {temperature: 0}}
chain:
  - {name: solve, kind: llm}
  - {name: answer, kind: extract, regex: "####\\s*(-?[\\d,.]+)"}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
`

func writeProblems(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := range n {
		a, b, c := i%97+1, i%89+1, i%7+2
		fmt.Fprintf(w, `{"id":"p%05d","question":"Tom has %d apples and gets %d bags of %d more. How many apples?","expression":"%d + %d * %d","answer":"%d"}`+"\n", i, a, b, c, a, b, c, a+b*c)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func benchHTML(ctx context.Context, cfg *config, dir string) (*table, error) {
	const n = 10000
	if err := writeProblems(filepath.Join(dir, "problems.jsonl"), n); err != nil {
		return nil, err
	}
	spec := filepath.Join(dir, "gavel.yaml")
	if err := writeFile(spec, htmlSpec); err != nil {
		return nil, err
	}
	run := filepath.Join(dir, "run")
	r, err := cfg.child(ctx, dir, cfg.gavel, "run", spec, "--out", run, "--cache", "off", "--concurrency", "32")
	if err != nil {
		return nil, err
	}
	page := filepath.Join(dir, "ab.html")
	c, err := cfg.child(ctx, dir, cfg.gavel, "compare", run, "--a", "plain", "--b", "hinted", "--format", "html", "-o", page)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := os.Stat(page); err == nil {
		size = st.Size()
	}
	t := &table{
		title: "html: the comparison page of 10,000 examples × 2 variants (offline model)",
		commands: []string{
			"gavel run gavel.yaml --out RUN --cache off --concurrency 32   # offline/calc, chain llm + extract, one numeric_match judge",
			"gavel compare RUN --a plain --b hinted --format html -o ab.html",
		},
	}
	t.add("the run (20,000 results): wall", fmt.Sprintf("%s, peak RSS %s", fmtDur(r.wall), fmtMiB(r.maxRSS)), "", "")
	t.goal("compare --format html: wall", fmtDur(c.wall), "≤ 2 s", c.wall <= 2*time.Second)
	t.goal("compare --format html: peak RSS", fmtMiB(c.maxRSS), "≤ 150 MiB", c.maxRSS <= 150*mib)
	t.add("page size", fmtMiB(size), "", "")
	return t, nil
}
