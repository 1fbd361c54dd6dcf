package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/gavel-eval/gavel/datasets"
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/prompts"
)

// validate reads the whole dataset once before any model call: malformed
// rows, duplicate ids and templates referring to missing fields are found
// now, for every example, rather than after money was spent.
func (r *runner) validate(ctx context.Context) (datasets.Info, error) {
	if r.regrade != nil {
		return r.validateRegrade(ctx)
	}
	fp, err := datasets.Fingerprint(r.dsOpts.Path)
	if err != nil {
		return datasets.Info{}, fmt.Errorf("dataset %s: %w", r.dsOpts.Path, err)
	}
	rd, err := datasets.Open(r.dsOpts)
	if err != nil {
		return datasets.Info{}, err
	}
	defer rd.Close()
	info := datasets.Info{Fingerprint: fp, Format: rd.Format()}
	// Reading the rows and rendering their templates take turns on two
	// goroutines. A read error travels in file order with the examples,
	// so the error reported is the first in the file, as if one goroutine
	// did both.
	type item struct {
		ex  datasets.Example
		err error
	}
	g, gctx := errgroup.WithContext(ctx)
	items := make(chan item, 256)
	g.Go(func() error {
		defer close(items)
		for {
			ex, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			select {
			case items <- item{ex, err}:
			case <-gctx.Done():
				return nil
			}
			if err != nil {
				return nil
			}
		}
	})
	g.Go(func() error {
		for it := range items {
			if it.err != nil {
				return it.err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.selected(it.ex.ID) {
				info.Count++
			}
			for _, vp := range r.variants {
				if err := r.dryRender(vp, it.ex); err != nil {
					return fmt.Errorf("dataset %s line %d (example %s), variant %s: %w", r.dsOpts.Path, it.ex.Line, it.ex.ID, vp.name, err)
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return info, err
	}
	if info.Count == 0 && r.shard == nil && r.opts.Select == nil {
		return info, fmt.Errorf("dataset %s: no examples", r.dsOpts.Path)
	}
	r.validated = fp
	return info, nil
}

// dryRender renders every template of the chain and judges for one example,
// with earlier steps' outputs stubbed, to catch missing fields.
func (r *runner) dryRender(vp *variantPlan, ex datasets.Example) error {
	st := &chainState{example: ex.Fields, variant: vp, steps: map[string]string{}}
	for _, s := range vp.steps {
		data := st.data()
		var err error
		switch s := s.(type) {
		case *llmStep:
			_, err = s.prompt.render(data, true)
			if sim := s.simulate; err == nil && sim != nil {
				for _, t := range []*prompts.Template{sim.persona, sim.goal} {
					if t != nil {
						if _, err = t.Render(data); err != nil {
							break
						}
					}
				}
			}
		case *agentStep:
			_, err = s.prompt.render(data, true)
		case *templateStep:
			_, err = s.t.Render(data)
		case *extractStep:
			if s.from != nil {
				_, err = s.from.Render(data)
			}
		case *httpStep:
			if s.body != nil {
				_, err = s.body.Render(data)
			}
		case *execStep:
			if s.input != nil {
				_, err = s.input.Render(data)
			}
		}
		if err != nil {
			return fmt.Errorf("step %s: %w", s.name(), err)
		}
		st.setStep(s.name(), "")
		switch s.(type) {
		case *llmStep, *agentStep:
			if len(stepTools(s)) > 0 {
				st.stepExtra(s.name(), map[string]any{"tool_calls": []any{}, "turns": 0})
			}
		}
		st.last = ""
	}
	data := st.data()
	data["trajectory"] = ""
	for key, t := range vp.facts {
		if _, err := t.Render(data); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	data["output"] = ""
	if r.expected != nil {
		if _, err := r.expected.Render(data); err != nil {
			return fmt.Errorf("dataset.expected: %w", err)
		}
	}
	for _, j := range r.judges {
		if err := checkJudgeTemplates(j, data, ex.Fields, vp.name, ""); err != nil {
			return err
		}
	}
	return nil
}

// checkJudgeTemplates renders a judge's templates for one example before
// the run: its expected over data, then its own (an LLM judge's prompt,
// rubric, criteria, input; see judges.TemplateChecker) with output as the
// output, which before a run is a placeholder (""), so that the example's
// and variant's fields they use are checked. The error names the judge.
func checkJudgeTemplates(j *judgePlan, data, example map[string]any, variant, output string) error {
	in := judges.Input{Output: output, Example: example, Variant: variant}
	if j.expected != nil {
		e, err := j.expected.Render(data)
		if err != nil {
			return fmt.Errorf("judge %s: %w", j.name, err)
		}
		in.Expected = e
	}
	if c, ok := j.judge.(judges.TemplateChecker); ok {
		if err := c.CheckTemplates(in); err != nil {
			return fmt.Errorf("judge %s: %w", j.name, err)
		}
	}
	return nil
}

// validateRegrade checks a stored run before re-grading it: every row's
// input decodes and every judge template renders.
func (r *runner) validateRegrade(ctx context.Context) (datasets.Info, error) {
	path := filepath.Join(r.regrade.dir, results.ResultsFile)
	fp, err := datasets.Fingerprint(path)
	if err != nil {
		return datasets.Info{}, err
	}
	info := datasets.Info{Format: datasets.FormatParquet, Fingerprint: fp}
	var renderErr error
	err = r.regradeJobs(func(j job) bool {
		if ctx.Err() != nil {
			renderErr = ctx.Err()
			return false
		}
		info.Count++
		_, st := r.presetResult(j, "")
		data := st.data()
		data["output"] = j.preset.Output
		for _, jp := range r.judges {
			if err := checkJudgeTemplates(jp, data, j.example.Fields, j.variant.name, j.preset.Output); err != nil {
				renderErr = fmt.Errorf("run %s: %s example %s: %w", r.regrade.dir, j.variant.name, j.example.ID, err)
				return false
			}
		}
		return true
	})
	if err == nil {
		err = renderErr
	}
	if err == nil && info.Count == 0 {
		err = fmt.Errorf("run %s has no results to re-grade", r.regrade.dir)
	}
	return info, err
}
