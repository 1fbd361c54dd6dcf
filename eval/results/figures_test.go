package results_test

import (
	"path/filepath"
	"testing"

	"github.com/gavel-eval/gavel/eval/results"
)

// The figures read alone are the figures of the whole rows.
func TestReadFiguresMatchWholeRows(t *testing.T) {
	dir := t.TempDir()
	cost := 0.25
	var rows []results.Result
	for i := 0; i < 600; i++ {
		r := results.Result{RunID: "r", Variant: []string{"a", "b"}[i%2], ExampleID: "e", ExampleIndex: int64(i / 2), Epoch: int32(i % 3),
			Status: results.StatusOK, Input: `{"q":"a long input"}`, Output: "an output", LatencyMS: float64(i) / 7,
			PromptTokens: int64(i), CompletionTokens: int64(2 * i), Cached: i%5 == 0, CachedCostUSD: float64(i%5) / 10}
		if i%4 == 0 {
			r.Status, r.Error = results.StatusError, results.Str("boom")
		} else {
			r.CostUSD = &cost
		}
		rows = append(rows, r)
	}
	path := filepath.Join(dir, "results.parquet")
	writeResults(t, path, rows, 100)
	i := 0
	err := results.ReadResultFigures(path, func(f results.ResultFigures) error {
		r := rows[i]
		want := results.ResultFigures{Variant: r.Variant, ExampleID: r.ExampleID, ExampleIndex: r.ExampleIndex, Epoch: r.Epoch, Status: r.Status, LatencyMS: r.LatencyMS,
			PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, CostUSD: r.CostUSD, Cached: r.Cached, CachedCostUSD: r.CachedCostUSD}
		if (f.CostUSD == nil) != (want.CostUSD == nil) || (f.CostUSD != nil && *f.CostUSD != *want.CostUSD) {
			t.Fatalf("row %d: cost %v, want %v", i, f.CostUSD, want.CostUSD)
		}
		f.CostUSD, want.CostUSD = nil, nil
		if f != want {
			t.Fatalf("row %d: figures %+v, want %+v", i, f, want)
		}
		i++
		return nil
	})
	if err != nil || i != len(rows) {
		t.Fatalf("read %d figures (%v), want %d", i, err, len(rows))
	}

	scorePath := filepath.Join(dir, "scores.parquet")
	score, pass := 0.5, true
	writeScores(t, scorePath,
		results.Score{RunID: "r", Variant: "a", ExampleID: "e", Epoch: 2, Judge: "j", JudgeType: "contains", Status: results.ScoreOK, Score: &score, Pass: &pass, Label: results.Str("x"), Reason: results.Str("because")},
		results.Score{RunID: "r", Variant: "b", ExampleID: "e", Judge: "p", JudgeType: "pairwise", Status: results.ScoreJudgeError, Error: results.Str("no"), OtherVariant: results.Str("a")},
	)
	var got []results.ScoreFigures
	if err := results.ReadScoreFigures(scorePath, func(s results.ScoreFigures) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Judge != "j" || got[0].Epoch != 2 || *got[0].Score != 0.5 || !*got[0].Pass || *got[0].Label != "x" || got[0].OtherVariant != nil ||
		got[1].Status != results.ScoreJudgeError || *got[1].OtherVariant != "a" || got[1].JudgeType != "pairwise" || got[1].Score != nil {
		t.Errorf("score figures %+v", got)
	}
}

// CountScores counts what ReadScores reads, over several row groups and
// pages of the dictionary-encoded status column.
func TestCountScores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scores.parquet")
	statuses := []results.ScoreStatus{results.ScoreOK, results.ScoreJudgeError, results.ScoreSkipped, results.ScoreOK, results.ScoreJudgeError}
	const n = 30_000
	scores := make([]results.Score, n)
	for i := range scores {
		scores[i] = results.Score{RunID: "r", Variant: "v", ExampleID: "e", ExampleIndex: int64(i), Judge: "j", Status: statuses[i%len(statuses)]}
	}
	writeScores(t, path, scores...)
	var rows, errs int64
	if err := results.ReadScores(path, func(s results.Score) error {
		rows++
		if s.Status == results.ScoreJudgeError {
			errs++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	gotRows, gotErrs, err := results.CountScores(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotRows != rows || gotErrs != errs || rows != n || errs != 2*n/5 {
		t.Errorf("CountScores = %d rows, %d judge errors; ReadScores read %d, %d (want %d, %d)", gotRows, gotErrs, rows, errs, n, 2*n/5)
	}
}
