// Package duckdbtest reads stored runs with DuckDB, a Parquet reader that
// shares no code with gavel, and runs the SQL the documentation shows on
// them. DuckDB runs from the Node.js app in testapps/duckdb, so the gavel
// module does not depend on it; without node or that app's node_modules
// the tests skip, saying why, unless GAVEL_REQUIRE_TOOLS is set (CI sets it
// and installs the app).
package duckdbtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/internal/testrun"
)

// repoRoot is the project's root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// duckdbApp returns the directory of the DuckDB app and the node binary,
// or skips (fails under GAVEL_REQUIRE_TOOLS) when either is missing.
func duckdbApp(t *testing.T) (dir, node string) {
	t.Helper()
	dir = filepath.Join(repoRoot(t), "testapps", "duckdb")
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
			missing = "testapps/duckdb has no node_modules (run npm ci --prefix testapps/duckdb)"
		}
	}
	if missing != "" {
		if os.Getenv("GAVEL_REQUIRE_TOOLS") != "" {
			t.Fatalf("GAVEL_REQUIRE_TOOLS is set but %s", missing)
		}
		t.Skipf("%s: skipping the DuckDB checks; CI runs them", missing)
	}
	return dir, node
}

// result is one statement's outcome in DuckDB.
type result struct {
	Rows  []map[string]any `json:"rows"`
	Error string           `json:"error"`
}

// query runs the statements in DuckDB and returns one result each.
func query(t *testing.T, statements ...string) []result {
	t.Helper()
	dir, node := duckdbApp(t)
	in, err := json.Marshal(statements)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "query.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node query.mjs: %v: %s", err, stderr.String())
	}
	var res []result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node query.mjs printed %q: %v", out, err)
	}
	if len(res) != len(statements) {
		t.Fatalf("%d results for %d statements", len(res), len(statements))
	}
	return res
}

// one runs a single statement that must succeed.
func one(t *testing.T, sql string) []map[string]any {
	t.Helper()
	r := query(t, sql)[0]
	if r.Error != "" {
		t.Fatalf("DuckDB: %s\n%s", r.Error, sql)
	}
	return r.Rows
}

// storedRuns writes two runs of one spec under dir/runs (run ids r1 and
// r2) from a CSV dataset with bytes that are not UTF-8, and returns
// dir.
func storedRuns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Latin-1 bytes (\xe9, \xff) in a field: not UTF-8.
	csv := "id,question,answer\n" +
		"1,What is 2 + 3? caf\xe9,5\n" +
		"2,What is 4 * 4? \xff\xfe,16\n" +
		"3,What is 10 - 7?,4\n" +
		"4,What is 6 / 2?,3\n"
	spec := `name: duckdb
dataset: {path: problems.csv, id: "{{.id}}"}
variants:
  - {name: echo, model: offline/echo, prompt: "{{.example.question}}"}
  - {name: calc, model: offline/calc, prompt: "{{.example.question}}"}
chain:
  - {name: solve, kind: llm}
judges:
  - {name: correct, type: numeric_match, expected: "{{.example.answer}}"}
  - {name: has-what, type: contains, value: "What"}
`
	for name, body := range map[string]string{"problems.csv": csv, "gavel.yaml": spec} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"r1", "r2"} {
		testrun.Must(t, nil, "run", filepath.Join(dir, "gavel.yaml"), "--cache", "off",
			"--out", filepath.Join(dir, "runs", id), "--run-id", id)
	}
	return dir
}

// TestDuckDBReadsEveryStoredFile reads every column of every row of the
// stored files (DuckDB refuses strings that are not UTF-8) and checks the
// columns documented as JSON are JSON to DuckDB.
func TestDuckDBReadsEveryStoredFile(t *testing.T) {
	duckdbApp(t)
	dir := storedRuns(t)
	glob := func(file string) string { return fmt.Sprintf("'%s/runs/*/%s'", dir, file) }

	for _, file := range []string{"results.parquet", "scores.parquet", "traces.parquet"} {
		rows := one(t, "SELECT * FROM "+glob(file))
		if len(rows) == 0 {
			t.Errorf("%s: no rows", file)
		}
	}
	for _, c := range []struct{ file, column string }{
		{"results.parquet", "input"},
		{"results.parquet", "steps"},
		{"results.parquet", "details"},
		{"scores.parquet", "details"},
		{"traces.parquet", "attributes"},
	} {
		rows := one(t, fmt.Sprintf("SELECT DISTINCT typeof(%q) AS t FROM %s", c.column, glob(c.file)))
		if len(rows) != 1 || rows[0]["t"] != "JSON" {
			t.Errorf("%s %s: DuckDB types it %v, want JSON", c.file, c.column, rows)
		}
	}
	// The rows whose bytes were replaced say so, and hold U+FFFD.
	rows := one(t, fmt.Sprintf(`SELECT run_id, variant, example_id, output,
	       details->'invalid_utf8' AS replaced
	FROM %s WHERE variant = 'echo' ORDER BY ALL`, glob("results.parquet")))
	flagged := 0
	for _, r := range rows {
		out, _ := r["output"].(string)
		if r["replaced"] != nil {
			flagged++
			if !strings.Contains(out, "\uFFFD") {
				t.Errorf("%v: flagged but its output %q holds no U+FFFD", r["example_id"], out)
			}
		}
	}
	if flagged != 4 { // examples 1 and 2 of each of the two runs
		t.Errorf("%d echo results flagged invalid_utf8, want 4: %v", flagged, rows)
	}
}

// sqlBlock matches a fenced SQL block of a Markdown file.
var sqlBlock = regexp.MustCompile("(?s)```sql\n(.*?)```")

// docQueries returns the SQL statements of the fenced sql blocks of the
// Markdown file at path (relative to the root).
func docQueries(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range sqlBlock.FindAllSubmatch(b, -1) {
		// Comments go first: they may hold a semicolon.
		var lines []string
		for _, l := range strings.Split(string(m[1]), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		for _, st := range strings.Split(strings.Join(lines, "\n"), ";") {
			if s := strings.TrimSpace(st); s != "" {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no SQL found", path)
	}
	return out
}

// TestDocumentedQueriesRun runs every SQL statement of docs/stored-run.md
// and the README on real runs, and checks the documented join pairs each
// score with the result of its own run.
func TestDocumentedQueriesRun(t *testing.T) {
	duckdbApp(t)
	dir := storedRuns(t)
	var statements []string
	for _, doc := range []string{"docs/stored-run.md", "README.md"} {
		for _, q := range docQueries(t, doc) {
			q = strings.ReplaceAll(q, "'runs/RUN/", "'"+dir+"/runs/r1/")
			q = strings.ReplaceAll(q, "'runs/", "'"+dir+"/runs/")
			statements = append(statements, q)
		}
	}
	for i, r := range query(t, statements...) {
		if r.Error != "" {
			t.Errorf("documented query fails in DuckDB: %s\n%s", r.Error, statements[i])
		}
	}

	// The documented join is by run_id too: each failed score pairs with
	// exactly one result, its own run's, across a glob of two runs.
	glob := func(file string) string { return fmt.Sprintf("'%s/runs/*/%s'", dir, file) }
	want := one(t, fmt.Sprintf(`SELECT count(*) AS n FROM %s
	WHERE judge = 'correct' AND NOT pass AND other_variant IS NULL`, glob("scores.parquet")))
	got := one(t, fmt.Sprintf(`SELECT count(*) AS n FROM %s r
	JOIN %s s USING (run_id, variant, example_id, epoch)
	WHERE s.judge = 'correct' AND NOT s.pass AND s.other_variant IS NULL`, glob("results.parquet"), glob("scores.parquet")))
	if fmt.Sprint(want[0]["n"]) == "0" || fmt.Sprint(got[0]["n"]) != fmt.Sprint(want[0]["n"]) {
		t.Errorf("join by run_id gives %v rows for %v failed scores", got[0]["n"], want[0]["n"])
	}
	// Without run_id the same join pairs rows across runs: the reason the
	// docs join on it.
	across := one(t, fmt.Sprintf(`SELECT count(*) AS n FROM %s r
	JOIN %s s USING (variant, example_id, epoch)
	WHERE s.judge = 'correct' AND NOT s.pass AND s.other_variant IS NULL`, glob("results.parquet"), glob("scores.parquet")))
	if fmt.Sprint(across[0]["n"]) == fmt.Sprint(want[0]["n"]) {
		t.Errorf("a join without run_id over two runs gave %v rows, as many as with it: the test's runs do not tell the joins apart", across[0]["n"])
	}
	// "end" must be quoted, and end_time sits beside it with the same value.
	rows := one(t, fmt.Sprintf(`SELECT count(*) FILTER (WHERE "end" <> end_time) AS differ, count(*) AS n FROM %s`, glob("traces.parquet")))
	if fmt.Sprint(rows[0]["differ"]) != "0" || fmt.Sprint(rows[0]["n"]) == "0" {
		t.Errorf("end and end_time: %v", rows)
	}
	if r := query(t, fmt.Sprintf(`SELECT end FROM %s`, glob("traces.parquet")))[0]; r.Error == "" {
		t.Errorf("an unquoted end parsed in DuckDB; the docs say it must be quoted")
	}
}

// Many runs at once: DuckDB globs runs/*/scores.parquet, and reads gavel
// export --partitioned's Hive layout with the run_id and variant
// partitions from the paths.
func TestManyRunsAndAPartitionedLake(t *testing.T) {
	duckdbApp(t)
	dir := storedRuns(t)
	rows := one(t, fmt.Sprintf(`SELECT run_id, variant, judge, avg(score) AS mean, count(*) AS n
FROM read_parquet('%s/runs/*/scores.parquet') GROUP BY ALL ORDER BY ALL`, dir))
	if len(rows) != 8 { // 2 runs × 2 variants × 2 judges
		t.Fatalf("scores over the runs: %v", rows)
	}
	lake := filepath.Join(dir, "lake")
	testrun.Must(t, nil, "export", "--partitioned", lake, filepath.Join(dir, "runs", "r1"), filepath.Join(dir, "runs", "r2"))
	got := one(t, fmt.Sprintf(`SELECT run_id, variant, count(*) AS n FROM read_parquet('%s/results/*/*/*.parquet', hive_partitioning = true)
GROUP BY ALL ORDER BY ALL`, lake))
	want := one(t, fmt.Sprintf(`SELECT run_id, variant, count(*) AS n FROM read_parquet('%s/runs/*/results.parquet') GROUP BY ALL ORDER BY ALL`, dir))
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 4 {
		t.Errorf("the lake's results %v, the runs' %v", got, want)
	}
	// The same rows, outputs and all, from the lake and the runs.
	diff := one(t, fmt.Sprintf(`SELECT count(*) AS n FROM (
  (SELECT run_id, variant, example_id, epoch, output, status FROM read_parquet('%s/results/*/*/*.parquet', hive_partitioning = true)
   EXCEPT SELECT run_id, variant, example_id, epoch, output, status FROM read_parquet('%s/runs/*/results.parquet'))
  UNION ALL
  (SELECT run_id, variant, example_id, epoch, output, status FROM read_parquet('%s/runs/*/results.parquet')
   EXCEPT SELECT run_id, variant, example_id, epoch, output, status FROM read_parquet('%s/results/*/*/*.parquet', hive_partitioning = true)))`, lake, dir, dir, lake))
	if fmt.Sprint(diff) != "[map[n:0]]" {
		t.Errorf("rows differ between the lake and the runs: %v", diff)
	}
	for _, table := range []string{"results", "scores", "traces"} {
		cols := one(t, fmt.Sprintf(`SELECT count(*) AS n FROM (DESCRIBE SELECT * FROM read_parquet('%s/%s/*/*/*.parquet', hive_partitioning = false)) WHERE column_name IN ('run_id', 'variant')`, lake, table))
		if fmt.Sprint(cols) != "[map[n:0]]" {
			t.Errorf("%s files hold run_id or variant: %v", table, cols)
		}
	}
}
