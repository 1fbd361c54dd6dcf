package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report"
)

// promotionFlags are the --require-run and gates of gavel prompts label
// and gavel prompts config label.
type promotionFlags struct {
	run   string
	gate  []string // KIND[:JUDGE]=VALUE
	gates gateFlags
}

func (p *promotionFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.run, "require-run", "", "move the label only if this stored `RUN` compared the candidate version with the one the label points at now and its gates pass; the run id is recorded in the history")
	f.StringArrayVar(&p.gate, "gate", nil, "with --require-run: a gate `KIND[:JUDGE]=VALUE`, KIND one of min_pass_rate, min_mean, max_drop, max_error_rate, max_cost, max_p95_latency_ms (repeatable), e.g. max_drop:correct=0.02")
	p.gates.register(f)
}

// set reports whether a promotion gate was asked for.
func (p *promotionFlags) set() bool {
	return p.run != ""
}

// anyGate reports whether a gate flag was given.
func (p *promotionFlags) anyGate() bool {
	g := &p.gates
	return len(p.gate)+len(g.minPassRate)+len(g.minMean)+len(g.maxDrop) > 0 || g.maxErrRate != "" || g.maxCost != "" || g.maxP95 != "" || g.noSpecGates
}

// parse folds the --gate values into the gate flags.
func (p *promotionFlags) parse() error {
	for _, g := range p.gate {
		kind, val, ok := strings.Cut(g, "=")
		if !ok {
			return fmt.Errorf("--gate %q: want KIND[:JUDGE]=VALUE, e.g. max_drop:correct=0.02", g)
		}
		kind, judge, _ := strings.Cut(strings.TrimSpace(kind), ":")
		arg := val
		if judge != "" {
			arg = judge + "=" + val
		}
		switch strings.ReplaceAll(kind, "-", "_") {
		case "min_pass_rate":
			p.gates.minPassRate = append(p.gates.minPassRate, arg)
		case "min_mean":
			p.gates.minMean = append(p.gates.minMean, arg)
		case "max_drop":
			p.gates.maxDrop = append(p.gates.maxDrop, arg)
		case "max_error_rate":
			p.gates.maxErrRate = arg
		case "max_cost":
			p.gates.maxCost = val
		case "max_p95_latency_ms":
			p.gates.maxP95 = val
		default:
			return fmt.Errorf("--gate %q: unknown kind %q (min_pass_rate, min_mean, max_drop, max_error_rate, max_cost, max_p95_latency_ms)", g, kind)
		}
	}
	_, err := p.gates.gates()
	return err
}

// check is the label move's check for a kind of registry file: the
// stored run must hold a variant that ran candidate (its prompt, or its
// config, as kind.ran finds it) and, when the label points somewhere
// now, one that ran current, both with the registry's content hashes;
// the gates (the flags', and the run's spec's unless --no-spec-gates) of
// the candidate's variant against current's must pass. It returns the
// run id.
func (p *promotionFlags) check(env *Env, kind registryKind) func(context.Context, *labelVersion, *labelVersion) (string, error) {
	return func(_ context.Context, current, candidate *labelVersion) (string, error) {
		m, err := results.ReadManifest(p.run)
		if err != nil {
			return "", withExitCode(fmt.Errorf("--require-run: %w", err), ExitError)
		}
		if m.Status != results.RunCompleted {
			return "", withExitCode(fmt.Errorf("--require-run %s: the run is %s, not completed: a promotion needs a whole evaluation", p.run, m.Status), ExitError)
		}
		b, err := p.findVariant(m, kind, candidate)
		if err != nil {
			return "", err
		}
		gates, err := collectGates(&p.gates, p.run)
		if err != nil {
			return "", withExitCode(err, ExitError)
		}
		if len(gates) == 0 {
			return "", withExitCode(fmt.Errorf("--require-run %s: no gates to check: give --gate (e.g. max_drop:correct=0.02), or gates in the run's spec", p.run), ExitError)
		}
		ropts := report.Options{Gates: gates}
		var r *report.Report
		against := "alone (the label is new)"
		if current != nil {
			a, err := p.findVariant(m, kind, current)
			if err != nil {
				return "", err
			}
			against = fmt.Sprintf("against %s (variant %s)", current.Ref(), a)
			r, err = report.CompareVariants(p.run, a, b, ropts)
			if err != nil {
				return "", withExitCode(err, ExitError)
			}
		} else if r, err = report.ForRun(p.run, ropts); err != nil {
			return "", withExitCode(err, ExitError)
		}
		failed := 0
		fmt.Fprintf(env.Stdout, "run %s: %s (variant %s) %s\n", m.RunID, candidate.Ref(), b, against)
		for _, g := range r.Gates {
			if g.Variant != b {
				continue
			}
			verdict := "PASS"
			if !g.Passed {
				verdict = "FAIL"
				failed++
			}
			fmt.Fprintf(env.Stdout, "gate %s  %s: %s\n", verdict, g.Gate, g.Detail)
		}
		if failed > 0 {
			return "", withExitCode(fmt.Errorf("the label stays where it is: %d gate(s) of run %s failed for %s", failed, m.RunID, candidate.Ref()), ExitGateFailed)
		}
		return m.RunID, nil
	}
}

// findVariant returns the first variant (by name) of run m that ran lv,
// with the registry's content hash.
func (p *promotionFlags) findVariant(m *results.Manifest, kind registryKind, lv *labelVersion) (string, error) {
	var names []string
	for _, v := range m.Variants {
		ran, ok := kind.ran(v)
		if !ok || ran.Name != lv.Name || ran.Version != lv.Version {
			continue
		}
		if ran.Hash != lv.Hash {
			return "", withExitCode(fmt.Errorf("--require-run %s: variant %s ran %s with content hash %s, but the registry's %s has %s: the run did not evaluate this %s", p.run, v.Name, lv.Ref(), ran.Hash, lv.Ref(), lv.Hash, kind.content), ExitError)
		}
		names = append(names, v.Name)
	}
	if len(names) == 0 {
		return "", withExitCode(fmt.Errorf("--require-run %s: no variant ran %s (the run's variants: %s)", p.run, lv.Ref(), variantsRan(m, kind)), ExitError)
	}
	sort.Strings(names)
	return names[0], nil
}

// variantsRan lists a run's variants with the prompts (or configs) they
// ran.
func variantsRan(m *results.Manifest, kind registryKind) string {
	var parts []string
	for _, v := range m.Variants {
		s := v.Name + " = "
		ran, ok := kind.ran(v)
		switch {
		case !ok:
			s += "no " + kind.noun
		case ran.Name != "":
			s += ran.Ref()
		default:
			s += "an inline " + kind.noun
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
