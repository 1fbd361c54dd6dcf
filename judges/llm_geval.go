package judges

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// GEvalConfig holds the options of a `g_eval` judge.
type GEvalConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Criteria is the metric and its definition, for example "Coherence -
	// the collective quality of all sentences ..." (a template). Required.
	Criteria string `yaml:"criteria"`
	// Steps are the evaluation steps. When empty, the judge asks the model
	// to write them once (G-Eval's auto chain-of-thought) and keeps them
	// in memory for its lifetime.
	Steps []string `yaml:"steps"`
	// MaxScore is the top of the score scale 1..MaxScore (default 5).
	MaxScore int `yaml:"max_score"`
	// Logprobs asks for token log probabilities to weight the score
	// (default true); without them, or when the server sends none, the
	// judge samples.
	Logprobs *bool `yaml:"logprobs"`
	// Samples is how many replies the sampling method averages (default
	// 20).
	Samples int `yaml:"samples"`
	// Threshold: the verdict passes when the normalised score is at least
	// this (default 0.5).
	Threshold       *float64   `yaml:"threshold"`
	Prompt          any        `yaml:"prompt"`
	Input           string     `yaml:"input"`
	Params          llm.Params `yaml:"params"`
	MaxParseRetries *int       `yaml:"max_parse_retries"`
}

// Defaults of g_eval.
const (
	defaultGEvalMaxScore = 5
	defaultGEvalSamples  = 20
	// gevalTopLogprobs is how many alternatives g_eval asks for at each
	// token position (the OpenAI API's maximum).
	gevalTopLogprobs = 20
)

// DefaultGEvalPrompt is the default prompt template of `g_eval`, after the
// form-filling prompts of the G-Eval paper (Liu et al., 2023, "G-Eval: NLG
// Evaluation using GPT-4 with Better Human Alignment").
const DefaultGEvalPrompt = `You will be given an output written for an input. Your task is to rate the output on one metric.
Please make sure you read and understand these instructions carefully.

Evaluation Criteria:
{{.criteria}}
The score is an integer from 1 to {{.max_score}}.

Evaluation Steps:
{{.steps}}

Example:
[BEGIN DATA]
***
[Input]: {{.input}}
***
[Output]: {{.output}}
***
{{- if .expected}}
[Reference]: {{.expected}}
***
{{- end}}
[END DATA]

Evaluation Form (scores ONLY, an integer from 1 to {{.max_score}}):
- Score:`

// DefaultGEvalStepsPrompt asks the judge model for evaluation steps when
// the spec gives none. It is rendered over {criteria, max_score}.
const DefaultGEvalStepsPrompt = `You will be given the criteria for rating an output written for an input, on a scale of 1 to {{.max_score}}.

Evaluation Criteria:
{{.criteria}}

Write the evaluation steps a careful grader follows to rate an output on these criteria: a numbered list of 3 to 5 short steps, and nothing else.`

var gevalStepsTemplate = prompts.MustParse("g_eval steps", DefaultGEvalStepsPrompt)

// GEval is the G-Eval judge (Liu et al., 2023): the model rates an output
// on a scale of 1 to max_score following evaluation steps, and the score
// is the expected rating — weighted by the probabilities of the score
// tokens when the server returns log probabilities, else the mean of
// sampled ratings — normalised to 0..1.
type GEval struct {
	*llmCore
	criteria   *prompts.Template
	criteriaTx string
	maxScore   int
	samples    int
	logprobs   bool
	threshold  float64
	sampleTemp *float64 // the spec's temperature, if any

	mu    sync.Mutex
	steps string // fixed or generated

	noLogprobs atomic.Bool // the server sent no log probabilities
	noN        atomic.Bool // the server answered n > 1 with one choice
}

var _ Judge = (*GEval)(nil)

// Scale is ordinal when the judge samples one rating per output (the
// rating itself, one of max_score levels) and continuous when it weights
// or averages ratings.
func (j *GEval) Scale() Scale {
	if !j.logprobs && j.samples == 1 {
		return ScaleOrdinal
	}
	return ScaleContinuous
}

// NewGEval returns a g_eval judge calling env.Model.
func NewGEval(cfg GEvalConfig, env Env) (*GEval, error) {
	if cfg.Criteria == "" {
		return nil, errors.New("criteria: required (the metric and its definition)")
	}
	j := &GEval{maxScore: cfg.MaxScore, samples: cfg.Samples, logprobs: true, threshold: 0.5, criteriaTx: cfg.Criteria}
	if j.maxScore == 0 {
		j.maxScore = defaultGEvalMaxScore
	}
	if j.maxScore < 2 || j.maxScore > 100 {
		return nil, fmt.Errorf("max_score: %d is out of range 2..100", cfg.MaxScore)
	}
	if j.samples == 0 {
		j.samples = defaultGEvalSamples
	}
	if j.samples < 1 || j.samples > 100 {
		return nil, fmt.Errorf("samples: %d is out of range 1..100", cfg.Samples)
	}
	if cfg.Logprobs != nil {
		j.logprobs = *cfg.Logprobs
	}
	if t := cfg.Threshold; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 1 {
			return nil, fmt.Errorf("threshold: %v is outside 0..1", *t)
		}
		j.threshold = *t
	}
	for i, s := range cfg.Steps {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("steps[%d]: empty", i)
		}
	}
	switch {
	case len(cfg.Steps) == 1:
		j.steps = strings.TrimSpace(cfg.Steps[0])
	case len(cfg.Steps) > 1:
		lines := make([]string, len(cfg.Steps))
		for i, s := range cfg.Steps {
			lines[i] = fmt.Sprintf("%d. %s", i+1, strings.TrimSpace(s))
		}
		j.steps = strings.Join(lines, "\n")
	}
	var err error
	if j.criteria, err = llmParseText("g_eval", "criteria", cfg.Criteria); err != nil {
		return nil, err
	}
	j.sampleTemp = cfg.Params.Temperature
	j.llmCore, err = newLLMCore("g_eval", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries,
	}, env, DefaultGEvalPrompt, nil, fmt.Sprintf("only the score, an integer from 1 to %d", j.maxScore))
	if err != nil {
		return nil, err
	}
	return j, nil
}

// evalSteps returns the evaluation steps: the configured ones, or the ones
// the model wrote on the first call (one model call per judge, named
// "<judge>/steps"; a failure is not kept, so a later call tries again).
func (j *GEval) evalSteps(ctx context.Context) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps != "" {
		return j.steps, nil
	}
	prompt, err := gevalStepsTemplate.Render(map[string]any{"criteria": j.criteriaTx, "max_score": j.maxScore})
	if err != nil {
		return "", err
	}
	resp, _, err := j.send(ctx, j.callName()+"/steps", []llm.Message{{Role: "user", Content: prompt}}, j.params, false)
	if err != nil {
		return "", fmt.Errorf("generating evaluation steps: %w", err)
	}
	steps := strings.TrimSpace(resp.Content)
	if steps == "" || resp.Refusal != "" {
		return "", fmt.Errorf("generating evaluation steps: the judge model sent no steps (refusal %s)", quote(resp.Refusal))
	}
	j.steps = steps
	return steps, nil
}

// Judge rates in.Output.
func (j *GEval) Judge(ctx context.Context, in Input) (Verdict, error) {
	steps, err := j.evalSteps(ctx)
	if err != nil {
		return Verdict{}, err
	}
	msgs, err := j.prompt(in, steps)
	if err != nil {
		return Verdict{}, err
	}
	base := j.callParams(ctx)
	if j.logprobs && !j.noLogprobs.Load() {
		p := base
		top := gevalTopLogprobs
		p.Logprobs, p.TopLogprobs = true, &top
		_, rep, err := llmAsk(ctx, j.llmCore, msgs, p, j.parseScore)
		switch {
		case err != nil && llm.RejectsParam(err, "logprobs", "top_logprobs"):
			j.noLogprobs.Store(true)
		case err != nil:
			return Verdict{}, err
		case len(rep.resp.Logprobs) == 0:
			j.noLogprobs.Store(true)
		default:
			if v, ok := j.weighted(rep); ok {
				return v, nil
			}
		}
	}
	return j.sample(ctx, msgs, base)
}

// prompt renders the judge's templates for in with the evaluation steps:
// the messages to send.
func (j *GEval) prompt(in Input, steps string) ([]llm.Message, error) {
	d, err := j.data(in)
	if err != nil {
		return nil, err
	}
	if d["criteria"], err = llmRenderText("criteria", j.criteria, d); err != nil {
		return nil, err
	}
	d["steps"] = steps
	d["max_score"] = j.maxScore
	return j.render(d)
}

// CheckTemplates renders the judge's templates for in without calling
// the judge model (see TemplateChecker). Evaluation steps the model has
// not written yet are "" there.
func (j *GEval) CheckTemplates(in Input) error {
	j.mu.Lock()
	steps := j.steps
	j.mu.Unlock()
	_, err := j.prompt(in, steps)
	return err
}

var gevalScoreRe = regexp.MustCompile(`(?i)\b(?:score|rating)\b[^\n:]{0,20}:[\s*_]*(\d+(?:\.\d+)?)`)

// parseScore reads a rating in 1..max_score from a reply: the reply alone,
// a JSON "score", a "Score: 4" (or "Score (1-5): 4", "Rating: 4") line, or
// a number ending the last line ("- Coherence: 4").
func (j *GEval) parseScore(reply string) (float64, error) {
	t := strings.TrimSpace(strings.Trim(strings.TrimSpace(reply), "*_`."))
	s, err := strconv.ParseFloat(t, 64)
	if err != nil {
		found := false
		if obj, ok := llmJSONObject(reply); ok {
			if v, ok := llmField(obj, llmScoreKeys...); ok {
				switch x := v.(type) {
				case float64:
					s, found = x, true
				case string:
					if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
						s, found = f, true
					}
				}
			}
		}
		if !found {
			if m := gevalScoreRe.FindStringSubmatch(reply); m != nil {
				s, err = strconv.ParseFloat(m[1], 64)
				found = err == nil
			}
		}
		if !found {
			lines := strings.Split(strings.TrimSpace(reply), "\n")
			last := strings.TrimRight(strings.TrimSpace(lines[len(lines)-1]), "*_`. ")
			if i := strings.LastIndexAny(last, " :-*"); i >= 0 {
				last = last[i+1:]
			}
			s, err = strconv.ParseFloat(last, 64)
			found = err == nil
		}
		if !found {
			return 0, fmt.Errorf("no score found: want an integer from 1 to %d", j.maxScore)
		}
	}
	if math.IsNaN(s) || s < 1 || s > float64(j.maxScore) {
		return 0, fmt.Errorf("the score %v is outside 1..%d", s, j.maxScore)
	}
	return s, nil
}

// weighted scores a reply with log probabilities as G-Eval does: at the
// position of the first generated token that is a valid rating, the score
// is sum(s * p(s)) / sum(p(s)) over the valid ratings s among the
// alternatives there (their probabilities renormalised to sum to 1). ok is
// false when no token is a valid rating.
func (j *GEval) weighted(rep llmReply) (Verdict, bool) {
	pos := -1
	for i, t := range rep.resp.Logprobs {
		if _, ok := j.ratingToken(t.Token); ok {
			pos = i
			break
		}
	}
	if pos < 0 {
		return Verdict{}, false
	}
	at := rep.resp.Logprobs[pos]
	alts := at.Top
	if len(alts) == 0 {
		alts = []llm.TopLogprob{{Token: at.Token, Logprob: at.Logprob}}
	}
	mass := map[int]float64{}
	var total float64
	for _, a := range alts {
		r, ok := j.ratingToken(a.Token)
		if !ok || math.IsNaN(a.Logprob) || math.IsInf(a.Logprob, 1) {
			continue
		}
		p := math.Exp(a.Logprob)
		mass[r] += p
		total += p
	}
	if !(total > 0) {
		return Verdict{}, false
	}
	var expected float64
	probs := map[string]float64{}
	for r, p := range mass {
		expected += float64(r) * p / total
		probs[strconv.Itoa(r)] = p / total
	}
	norm := (expected - 1) / float64(j.maxScore-1)
	det := j.details(rep)
	det["method"] = "logprobs"
	det["probabilities"] = probs
	det["valid_probability"] = total
	det["rating"] = expected
	det["token"] = at.Token
	det["steps"] = j.steps
	reason := fmt.Sprintf("G-Eval: probability-weighted rating %.3g on 1..%d (normalised %.3g)", expected, j.maxScore, norm)
	return Verdict{Score: Float(norm), Pass: norm >= j.threshold, Reason: reason, Details: det}, true
}

// ratingToken reads a token as a rating in 1..max_score.
func (j *GEval) ratingToken(tok string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(tok))
	if err != nil || n < 1 || n > j.maxScore {
		return 0, false
	}
	return n, true
}

// sample scores by sampling: samples replies at temperature 1 (or the
// spec's temperature), asked for with n in one call, or with repeated
// calls when the server answers n with one choice or rejects it; each
// reply's rating is read, unreadable ones are counted and dropped, and the
// score is the mean rating normalised to 0..1. Every call has its own
// seed: (seed + repeat index) * samples + sample index.
func (j *GEval) sample(ctx context.Context, msgs []llm.Message, base llm.Params) (Verdict, error) {
	p := base
	one := 1.0
	p.Temperature = &one
	if j.sampleTemp != nil {
		p.Temperature = j.sampleTemp
	}
	seed0 := *base.Seed * j.samples
	var ratings []float64
	var replies []string
	unparsed, calls := 0, 0
	take := func(contents []string) {
		for _, c := range contents {
			if len(ratings)+unparsed >= j.samples {
				return
			}
			replies = append(replies, c)
			if r, err := j.parseScore(c); err == nil {
				ratings = append(ratings, r)
			} else {
				unparsed++
			}
		}
	}
	call := func(p llm.Params) (llm.Response, error) {
		calls++
		resp, _, err := j.send(ctx, j.callName(), msgs, p, false)
		return resp, err
	}
	if j.samples > 1 && !j.noN.Load() {
		q := p
		n := j.samples
		seed := seed0
		q.N, q.Seed = &n, &seed
		resp, err := call(q)
		switch {
		case err != nil && llm.RejectsParam(err, "n"):
			j.noN.Store(true)
		case err != nil:
			return Verdict{}, err
		case len(resp.Choices) > 1:
			take(resp.Choices)
		default:
			j.noN.Store(true)
			take([]string{resp.Content})
		}
	}
	for i := len(ratings) + unparsed; i < j.samples; i++ {
		q := p
		seed := seed0 + i
		q.Seed = &seed
		resp, err := call(q)
		if err != nil {
			return Verdict{}, err
		}
		take([]string{resp.Content})
	}
	if len(ratings) == 0 {
		first := ""
		if len(replies) > 0 {
			first = replies[0]
		}
		return Verdict{}, fmt.Errorf("could not parse any of the judge model's %d sampled replies; first reply: %s", len(replies), quote(first))
	}
	var sum float64
	for _, r := range ratings {
		sum += r
	}
	mean := sum / float64(len(ratings))
	norm := (mean - 1) / float64(j.maxScore-1)
	det := map[string]any{
		"model":    j.modelID,
		"method":   "sampling",
		"samples":  ratings,
		"unparsed": unparsed,
		"calls":    calls,
		"rating":   mean,
		"steps":    j.steps,
	}
	if len(replies) > 0 {
		det["reply"] = llmClip(replies[0], llmReplyDetailRunes)
	}
	reason := fmt.Sprintf("G-Eval: mean of %d sampled ratings %.3g on 1..%d (normalised %.3g)", len(ratings), mean, j.maxScore, norm)
	return Verdict{Score: Float(norm), Pass: norm >= j.threshold, Reason: reason, Details: det}, nil
}
