// Package gates converts a spec's gates (eval.GateSpec) into the gates
// reports check (report.Gate): what gavel run, gavel report and a Go test
// (gaveltest) check after a run.
package gates

import (
	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/report"
	"github.com/gavel-eval/gavel/report/stats"
)

// FromSpec returns the report gates of a spec's gates, in order.
func FromSpec(gs []eval.GateSpec) []report.Gate {
	out := make([]report.Gate, len(gs))
	for i, g := range gs {
		out[i] = report.Gate{Judge: g.Judge, MinPassRate: g.MinPassRate, MinMean: g.MinMean, MaxErrorRate: g.MaxErrorRate,
			MaxDrop: g.MaxDrop, MaxCost: g.MaxCost, MaxP95LatencyMS: g.MaxP95LatencyMS,
			Alternative: stats.Alternative(g.Alternative), ErrorsAs: report.ErrorsAs(g.ErrorsAs)}
	}
	return out
}
