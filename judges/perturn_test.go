package judges_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gavel-eval/gavel/judges"
)

func TestPerTurn(t *testing.T) {
	base, _ := judges.NewContains(judges.ContainsConfig{Value: "ok"})
	turns := []string{"ok", "no", "ok", "ok"}
	for _, c := range []struct {
		agg   string
		score float64
		pass  bool
	}{{"", 0.75, true}, {"mean", 0.75, true}, {"min", 0, false}, {"all", 0.75, false}} {
		j, err := judges.PerTurn(base, c.agg)
		if err != nil {
			t.Fatal(err)
		}
		v, err := j.Judge(context.Background(), judges.Input{Output: "ok", Turns: turns})
		if err != nil {
			t.Fatal(err)
		}
		if *v.Score != c.score || v.Pass != c.pass || !strings.Contains(v.Reason, "3 of 4 turns passed") || !strings.Contains(v.Reason, "turn 2:") {
			t.Errorf("%q: score %v pass %v reason %q", c.agg, *v.Score, v.Pass, v.Reason)
		}
	}
	// Half the turns passing passes the mean; one turn is the judge itself.
	j, _ := judges.PerTurn(base, "mean")
	if v, _ := j.Judge(context.Background(), judges.Input{Turns: []string{"ok", "no"}}); !v.Pass || *v.Score != 0.5 {
		t.Errorf("half: %+v", v)
	}
	if v, _ := j.Judge(context.Background(), judges.Input{Output: "no", Turns: []string{"no"}}); v.Pass || v.Details != nil {
		t.Errorf("one turn: %+v", v)
	}
	if _, err := judges.PerTurn(base, "median"); err == nil {
		t.Error("median: no error")
	}
	failing := judges.Func(func(_ context.Context, in judges.Input) (judges.Verdict, error) {
		if in.Output == "bad" {
			return judges.Verdict{}, context.DeadlineExceeded
		}
		return judges.Verdict{Pass: true}, nil
	})
	j, _ = judges.PerTurn(failing, "all")
	if _, err := j.Judge(context.Background(), judges.Input{Turns: []string{"fine", "bad"}}); err == nil || !strings.Contains(err.Error(), "turn 2") {
		t.Errorf("a judge error: %v", err)
	}
}
