package judges

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// LLMRubricConfig holds the options of an `llm_rubric` judge.
type LLMRubricConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Rubric is what the output must satisfy: a template over the prompt's
	// data. Required.
	Rubric string `yaml:"rubric"`
	// Threshold, when set, decides pass from the model's score (pass when
	// score >= threshold) instead of the model's own pass.
	Threshold *float64 `yaml:"threshold"`
	// Prompt replaces the default prompt template: a string (one user
	// message) or a list of {role, content} messages.
	Prompt any `yaml:"prompt"`
	// Input is a template for the task shown to the model; by default the
	// example's input, question, prompt or query field.
	Input string `yaml:"input"`
	// Params override the judge's sampling parameters (temperature 0,
	// seed 0).
	Params llm.Params `yaml:"params"`
	// MaxParseRetries is how many times an unreadable reply is asked
	// again (default 2).
	MaxParseRetries *int `yaml:"max_parse_retries"`
	// Structured asks for JSON through response_format json_schema
	// (default true).
	Structured *bool `yaml:"structured"`
}

// DefaultRubricPrompt is the default prompt template of `llm_rubric`.
const DefaultRubricPrompt = `You are grading an output against a rubric. Here is the data:
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
[Rubric]: {{.rubric}}
***
[END DATA]
Does the output satisfy the rubric? Think it through first, then give your verdict.
Reply with a JSON object with the keys "reason" (a short explanation, written first), "pass" (true when the output satisfies the rubric, false otherwise) and "score" (a number from 0 to 1: how well the output satisfies the rubric).`

// rubricSchema is the structured output of `llm_rubric`.
var rubricSchema = llmSchema("rubric_verdict", "A grader's verdict on an output against a rubric.",
	llmProp{"reason", map[string]any{"type": "string", "description": "A short explanation of the verdict, written before it."}},
	llmProp{"pass", map[string]any{"type": "boolean", "description": "True when the output satisfies the rubric."}},
	llmProp{"score", map[string]any{"type": "number", "minimum": 0, "maximum": 1, "description": "How well the output satisfies the rubric, from 0 to 1."}},
)

// LLMRubric asks a judge model whether an output satisfies a rubric. The
// model replies with a reason, a pass and a score in 0..1.
type LLMRubric struct {
	*llmCore
	rubric    *prompts.Template
	threshold *float64
}

var _ Judge = (*LLMRubric)(nil)

// NewLLMRubric returns an llm_rubric judge calling env.Model.
func NewLLMRubric(cfg LLMRubricConfig, env Env) (*LLMRubric, error) {
	if cfg.Rubric == "" {
		return nil, errors.New("rubric: required (what the output must satisfy)")
	}
	if t := cfg.Threshold; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 1) {
		return nil, fmt.Errorf("threshold: %v is outside 0..1", *t)
	}
	rubric, err := llmParseText("llm_rubric", "rubric", cfg.Rubric)
	if err != nil {
		return nil, err
	}
	core, err := newLLMCore("llm_rubric", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries, structured: cfg.Structured,
	}, env, DefaultRubricPrompt, rubricSchema, `a JSON object with the keys "reason", "pass" and "score"`)
	if err != nil {
		return nil, err
	}
	return &LLMRubric{llmCore: core, rubric: rubric, threshold: cfg.Threshold}, nil
}

// Judge asks the judge model for a verdict on in.Output.
func (j *LLMRubric) Judge(ctx context.Context, in Input) (Verdict, error) {
	msgs, err := j.prompt(in)
	if err != nil {
		return Verdict{}, err
	}
	r, rep, err := llmAsk(ctx, j.llmCore, msgs, j.callParams(ctx), parseVerdict)
	if err != nil {
		return Verdict{}, err
	}
	return j.verdict(r, rep), nil
}

// prompt renders the judge's templates for in: the messages to send.
func (j *LLMRubric) prompt(in Input) ([]llm.Message, error) {
	d, err := j.data(in)
	if err != nil {
		return nil, err
	}
	if d["rubric"], err = llmRenderText("rubric", j.rubric, d); err != nil {
		return nil, err
	}
	return j.render(d)
}

// CheckTemplates renders the judge's templates for in without calling
// the judge model (see TemplateChecker).
func (j *LLMRubric) CheckTemplates(in Input) error {
	_, err := j.prompt(in)
	return err
}

func (j *LLMRubric) verdict(r llmVerdictReply, rep llmReply) Verdict {
	det := j.details(rep)
	var score float64
	var pass bool
	switch {
	case r.Score != nil && r.Pass != nil:
		score, pass = *r.Score, *r.Pass
	case r.Score != nil:
		score, pass = *r.Score, *r.Score >= 0.5
	default:
		pass = *r.Pass
		if pass {
			score = 1
		}
	}
	if r.Pass != nil {
		det["model_pass"] = *r.Pass
	}
	if r.Score != nil {
		det["model_score"] = *r.Score
	}
	if j.threshold != nil {
		pass = score >= *j.threshold
		det["threshold"] = *j.threshold
	}
	reason := r.Reason
	if reason == "" {
		reason = "the judge model gave no reason"
	}
	return Verdict{Score: Float(score), Pass: pass, Reason: reason, Details: det}
}
