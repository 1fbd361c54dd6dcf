package judges

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// PanelConfig holds the options of a `panel` judge.
type PanelConfig struct {
	// Judges are the members: each a mapping with a `type`, an optional
	// `name` and the type's options, as a judge in the spec (without
	// `expected`: members see the panel's).
	Judges []map[string]any `yaml:"judges"`
	// Combine is "majority" (the default: pass when more than half of the
	// members pass) or "mean" (pass when the mean score is at least
	// Threshold).
	Combine string `yaml:"combine"`
	// Threshold is the pass mark of "mean" (default 0.5).
	Threshold *float64 `yaml:"threshold"`
}

// panelMember is one built member of a panel.
type panelMember struct {
	name, typ string
	judge     Judge
}

// Panel asks several judges (typically LLM judges on different models) and
// combines their verdicts. See NewPanel.
type Panel struct {
	members   []panelMember
	combine   string
	threshold float64
}

var _ Judge = (*Panel)(nil)

// NewPanel builds a panel whose members' types come from cat and whose
// members are built with env. Each member's configuration (its mapping
// without type and name) is decoded strictly into its type's
// configuration: an unknown key is an error naming the member. A member
// cannot be a pairwise judge or another panel. Members' model calls are
// named after the members (their name, default "<type>#<index>").
func NewPanel(cfg PanelConfig, env Env, cat Catalog) (*Panel, error) {
	if len(cfg.Judges) == 0 {
		return nil, errors.New("judges: required (the panel's members: a list of judges with their type and options)")
	}
	p := &Panel{combine: cfg.Combine, threshold: 0.5}
	if p.combine == "" {
		p.combine = AggregateMajority
	}
	if p.combine != AggregateMajority && p.combine != AggregateMean {
		return nil, fmt.Errorf("combine: unknown %q (majority or mean)", cfg.Combine)
	}
	if t := cfg.Threshold; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 1 {
			return nil, fmt.Errorf("threshold: %v is outside 0..1", *t)
		}
		if p.combine != AggregateMean {
			return nil, errors.New("threshold: applies only to combine: mean")
		}
		p.threshold = *t
	}
	names := map[string]bool{}
	for i, m := range cfg.Judges {
		member, err := buildPanelMember(i, m, env, cat)
		if err != nil {
			return nil, err
		}
		if names[member.name] {
			return nil, fmt.Errorf("judges[%d].name: %q is used by another member", i, member.name)
		}
		names[member.name] = true
		p.members = append(p.members, member)
	}
	return p, nil
}

// buildPanelMember decodes and builds member i.
func buildPanelMember(i int, m map[string]any, env Env, cat Catalog) (panelMember, error) {
	path := fmt.Sprintf("judges[%d]", i)
	typ, ok := m["type"].(string)
	if !ok || typ == "" {
		return panelMember{}, fmt.Errorf("%s.type: missing (one of %v)", path, cat.Types())
	}
	switch typ {
	case "panel", "pairwise":
		return panelMember{}, fmt.Errorf("%s.type: a panel member cannot be a %s judge", path, typ)
	}
	f, err := cat.Lookup(typ)
	if err != nil {
		return panelMember{}, fmt.Errorf("%s.type: %w", path, err)
	}
	name := fmt.Sprintf("%s#%d", typ, i)
	if v, ok := m["name"]; ok {
		s, ok := v.(string)
		if !ok || s == "" {
			return panelMember{}, fmt.Errorf("%s.name: want a non-empty string", path)
		}
		name = s
	}
	rest := map[string]any{}
	for k, v := range m {
		if k != "type" && k != "name" {
			rest[k] = v
		}
	}
	cfg, err := llmDecodeConfig(f, rest)
	if err != nil {
		return panelMember{}, fmt.Errorf("%s (%s): %w", path, name, err)
	}
	j, err := f.Build(cfg, env)
	if err != nil {
		return panelMember{}, fmt.Errorf("%s (%s): %w", path, name, err)
	}
	if _, ok := j.(PairJudge); ok {
		return panelMember{}, fmt.Errorf("%s.type: a panel member cannot be a pairwise judge", path)
	}
	if n, ok := j.(llmNamed); ok {
		n.setLLMName(name)
	}
	return panelMember{name: name, typ: typ, judge: j}, nil
}

// CheckTemplates renders every member's templates for in (see
// TemplateChecker); the error names the member.
func (p *Panel) CheckTemplates(in Input) error {
	for _, m := range p.members {
		if c, ok := m.judge.(TemplateChecker); ok {
			if err := c.CheckTemplates(in); err != nil {
				return fmt.Errorf("member %s: %w", m.name, err)
			}
		}
	}
	return nil
}

// Judge asks every member, one after the other, and combines their
// verdicts:
//
//   - score: the mean of the members' scores (a member without a score
//     counts 1 when it passes, 0 when it fails);
//   - pass: with "majority", more than half of the members pass (a tie
//     fails); with "mean", mean score >= threshold;
//   - label: the most frequent member label (the first seen among equals).
//
// Details hold each member's verdict (name, type, pass, score, label,
// reason) or error, passes, judged (members that answered), errors,
// agreement — the fraction of the answering members whose pass equals the
// panel's — and pairwise_agreement — the fraction of pairs of answering
// members that agree on pass, which is Fleiss' per-item agreement P_i
// (Fleiss' kappa needs every item of the run and is computed at run
// level, not here); 1 for a single member.
//
// Members that fail are recorded and left out; when all fail, the panel
// fails with the first error.
func (p *Panel) Judge(ctx context.Context, in Input) (Verdict, error) {
	var vs []Verdict
	var firstErr error
	failed := 0
	members := make([]map[string]any, 0, len(p.members))
	for _, m := range p.members {
		if err := ctx.Err(); err != nil {
			return Verdict{}, err
		}
		v, err := m.judge.Judge(ctx, in)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("member %s: %w", m.name, err)
			}
			members = append(members, map[string]any{"name": m.name, "type": m.typ, "error": err.Error()})
			continue
		}
		if v.Score == nil {
			s := 0.0
			if v.Pass {
				s = 1
			}
			v.Score = &s
		}
		vs = append(vs, v)
		entry := map[string]any{"name": m.name, "type": m.typ, "pass": v.Pass, "score": *v.Score, "reason": llmClip(v.Reason, 1000)}
		if v.Label != "" {
			entry["label"] = v.Label
		}
		members = append(members, entry)
	}
	if len(vs) == 0 {
		return Verdict{}, fmt.Errorf("all %d panel members failed: %w", len(p.members), firstErr)
	}
	agg := aggregateVerdicts(vs, p.combine, p.threshold)
	n := len(vs)
	agree := agg.passes
	if !agg.pass {
		agree = n - agg.passes
	}
	pairwise := 1.0
	if n > 1 {
		pairs := float64(n * (n - 1) / 2)
		same := float64(agg.passes*(agg.passes-1)/2 + (n-agg.passes)*(n-agg.passes-1)/2)
		pairwise = same / pairs
	}
	det := map[string]any{
		"combine":            p.combine,
		"members":            members,
		"passes":             agg.passes,
		"judged":             n,
		"agreement":          float64(agree) / float64(n),
		"pairwise_agreement": pairwise,
	}
	if p.combine == AggregateMean {
		det["threshold"] = p.threshold
	}
	if failed > 0 {
		det["errors"] = failed
	}
	how := "majority"
	if p.combine == AggregateMean {
		how = fmt.Sprintf("mean score %.3g vs threshold %.3g", *agg.score, p.threshold)
	}
	reason := fmt.Sprintf("%d of %d members pass (%s)", agg.passes, n, how)
	if failed > 0 {
		reason += fmt.Sprintf("; %d failed", failed)
	}
	return Verdict{Score: agg.score, Pass: agg.pass, Label: agg.label, Reason: reason, Details: det}, nil
}
