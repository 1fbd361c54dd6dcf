package judges

import (
	"context"
	"fmt"
	"strings"

	"github.com/gavel-eval/gavel/llm"
)

// TrajectoryConfig holds the options of a trajectory judge.
type TrajectoryConfig struct {
	// Mode is "exact" (default: the same tools in the same order, no
	// other), "in_order" (the expected tools appear in that order, other
	// calls between them allowed) or "any_order" (each expected tool is
	// called, as often as expected, in any order, other calls allowed).
	Mode string `yaml:"mode"`
}

// Trajectory compares the sequence of tools a result called (the names of
// Input.ToolCalls, in order) with an expected sequence: the `expected`
// template renders a JSON list of tool names, or of calls {name, ...}
// whose names are taken. Its score is 1 or 0 for exact; for in_order and
// any_order the share of the expected calls found (in_order: the longest
// prefix of the expected sequence found in order), passing at 1.
type Trajectory struct{ mode string }

var _ Judge = (*Trajectory)(nil)

// NewTrajectory returns a trajectory judge.
func NewTrajectory(cfg TrajectoryConfig) (*Trajectory, error) {
	switch cfg.Mode {
	case "":
		cfg.Mode = "exact"
	case "exact", "in_order", "any_order":
	default:
		return nil, fmt.Errorf("mode %q: want exact, in_order or any_order", cfg.Mode)
	}
	return &Trajectory{mode: cfg.Mode}, nil
}

// expectedNames reads a JSON list of tool names or calls.
func expectedNames(text string) ([]string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("expected is empty: set the judge's expected template to the expected tool names as JSON (e.g. \"{{json .example.trajectory}}\")")
	}
	v, err := parseJSONValue(text)
	if err != nil {
		return nil, fmt.Errorf("expected is not valid JSON (%v): %s", err, quote(text))
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected is a JSON %s: want a list of tool names", jsonKind(v))
	}
	names := make([]string, len(list))
	for i, item := range list {
		switch x := item.(type) {
		case string:
			names[i] = x
		case map[string]any:
			if fn, ok := x["function"].(map[string]any); ok {
				x = fn
			}
			names[i], _ = x["name"].(string)
		}
		if names[i] == "" {
			return nil, fmt.Errorf("expected item %d is not a tool name or a call with a name", i+1)
		}
	}
	return names, nil
}

// Trajectory returns the names of calls, in order.
func trajectoryOf(calls []llm.ToolCall) []string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Name
	}
	return names
}

// Judge compares the tools called with the expected sequence.
func (j *Trajectory) Judge(_ context.Context, in Input) (Verdict, error) {
	want, err := expectedNames(in.Expected)
	if err != nil {
		return Verdict{}, fmt.Errorf("trajectory: %w", err)
	}
	got := trajectoryOf(in.ToolCalls)
	show := func(s []string) string {
		if len(s) == 0 {
			return "(none)"
		}
		return strings.Join(s, " → ")
	}
	details := map[string]any{"expected": want, "actual": got, "mode": j.mode}
	var v Verdict
	switch j.mode {
	case "exact":
		same := len(want) == len(got)
		for i := 0; same && i < len(want); i++ {
			same = want[i] == got[i]
		}
		if same {
			v = binary(true, "called "+show(got)+", as expected")
		} else {
			v = binary(false, "called "+show(got)+", expected "+show(want))
		}
	case "in_order":
		k := 0
		for _, g := range got {
			if k < len(want) && g == want[k] {
				k++
			}
		}
		v = shareVerdict(k, len(want), fmt.Sprintf("%d of %d expected calls found in order (%s in %s)", k, len(want), show(want), show(got)))
	case "any_order":
		left := map[string]int{}
		for _, g := range got {
			left[g]++
		}
		k := 0
		var missing []string
		for _, w := range want {
			if left[w] > 0 {
				left[w]--
				k++
			} else {
				missing = append(missing, w)
			}
		}
		reason := fmt.Sprintf("%d of %d expected calls made", k, len(want))
		if len(missing) > 0 {
			reason += "; missing " + strings.Join(missing, ", ") + " (called " + show(got) + ")"
		}
		v = shareVerdict(k, len(want), reason)
	}
	v.Details = details
	return v, nil
}

// shareVerdict scores k of n (1 when n is 0), passing at all of them.
func shareVerdict(k, n int, reason string) Verdict {
	score := 1.0
	if n > 0 {
		score = float64(k) / float64(n)
	}
	return Verdict{Score: &score, Pass: k == n, Reason: reason}
}
