package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// scoreSpec scores column a against column b with one levenshtein judge
// (ids: the default content hash of each row).
const scoreSpec = `name: bench-score
score:
  output: a
judges:
  - {name: dist, type: levenshtein, expected: "{{.example.b}}"}
`

// duckDB makes sure testapps/duckdb's @duckdb/node-api is installed and
// returns the node binary and duckdb.mjs.
func duckDB(ctx context.Context, cfg *config) (node, script string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node is needed for DuckDB: %w", err)
	}
	script = filepath.Join(cfg.root, "scripts", "bench", "duckdb.mjs")
	if _, err := os.Stat(script); err != nil {
		return "", "", err
	}
	app := filepath.Join(cfg.root, "testapps", "duckdb")
	if _, err := os.Stat(filepath.Join(app, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return "", "", fmt.Errorf("testapps/duckdb/node_modules is missing and there is no npm: %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench: npm ci --prefix testapps/duckdb")
		if _, err := cfg.child(ctx, cfg.root, npm, "ci", "--prefix", app, "--no-audit", "--no-fund"); err != nil {
			return "", "", err
		}
	}
	return node, script, nil
}

func benchScore(ctx context.Context, cfg *config, dir string) (*table, error) {
	rows := 1_000_000
	if cfg.quick {
		rows = 100_000
	}
	node, script, err := duckDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	input := filepath.Join(dir, "pairs.parquet")
	gen, err := cfg.child(ctx, dir, node, script, "gen", fmt.Sprint(rows), input)
	if err != nil {
		return nil, err
	}
	spec := filepath.Join(dir, "score.yaml")
	if err := writeFile(spec, scoreSpec); err != nil {
		return nil, err
	}
	g, err := cfg.child(ctx, dir, cfg.gavel, "score", "--spec", spec, "--input", input, "--out", filepath.Join(dir, "run"))
	if err != nil {
		return nil, err
	}
	cfg.remove(filepath.Join(dir, "run"))
	d, err := cfg.child(ctx, dir, node, script, "levenshtein", input, filepath.Join(dir, "duckdb.parquet"))
	if err != nil {
		return nil, err
	}
	st, _ := os.Stat(input)
	var size int64
	if st != nil {
		size = st.Size()
	}
	t := &table{
		title: fmt.Sprintf("score: gavel score vs DuckDB, levenshtein over %s rows", fmtInt(int64(rows))),
		commands: []string{
			"gavel score --spec score.yaml --input pairs.parquet --out DIR   # score: {output: a}; judges: [{type: levenshtein, expected: \"{{.example.b}}\"}]",
			"node scripts/bench/duckdb.mjs levenshtein pairs.parquet d.parquet   # COPY (SELECT levenshtein(a, b) AS d FROM read_parquet(...)) TO ... (FORMAT parquet)",
		},
	}
	t.add("input", fmt.Sprintf("%s rows, columns a and b of 80 characters, %s Parquet (written by DuckDB in %s)", fmtInt(int64(rows)), fmtMiB(size), fmtDur(gen.wall)), "", "")
	t.add("gavel score: wall", fmt.Sprintf("%s (%s rows/s)", fmtDur(g.wall), fmtInt(int64(float64(rows)/g.wall.Seconds()))), "", "")
	t.add("DuckDB: wall", fmt.Sprintf("%s (%s rows/s)", fmtDur(d.wall), fmtInt(int64(float64(rows)/d.wall.Seconds()))), "", "")
	ratio := g.wall.Seconds() / d.wall.Seconds()
	t.goal("wall: gavel ÷ DuckDB", fmt.Sprintf("%.2f×", ratio), "≤ 2×", ratio <= 2)
	t.goal("gavel score: peak RSS", fmtMiB(g.maxRSS), "≤ 100 MiB", g.maxRSS <= 100*mib)
	t.add("DuckDB: peak RSS", fmtMiB(d.maxRSS), "", "")
	if d.maxRSS > 0 {
		t.add("peak RSS: gavel ÷ DuckDB", fmt.Sprintf("%.2f×", float64(g.maxRSS)/float64(d.maxRSS)), "", "")
	}
	t.notes = append(t.notes, "Both walls are whole child processes, start-up included (node and DuckDB's library load: 0.3–0.4 s); DuckDB uses every core by default, gavel score two workers per core.")
	return t, nil
}
