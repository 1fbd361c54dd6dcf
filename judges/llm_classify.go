package judges

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// This file holds the judges whose model picks one of a few choices:
// closed_qa and factuality (OpenAI Evals' model-graded formats) and
// classify (the user's own labels).

// The OpenAI Evals model-graded specs reproduced here come from
// github.com/openai/evals, evals/registry/modelgraded/closedqa.yaml and
// fact.yaml; their answer instructions from ANSWER_PROMPTS in
// evals/elsuite/modelgraded/classify_utils.py. Evals' {input},
// {completion}, {criteria} and {ideal} placeholders are gavel's {{.input}},
// {{.output}}, {{.criteria}} and {{.expected}}.

// DefaultClosedQAPrompt is closedqa.yaml's prompt (eval_type cot_classify,
// choice_strings "YN").
const DefaultClosedQAPrompt = `You are assessing a submitted answer on a given task based on a criterion. Here is the data:
[BEGIN DATA]
***
[Task]: {{.input}}
***
[Submission]: {{.output}}
***
[Criterion]: {{.criteria}}
***
[END DATA]
Does the submission meet the criterion? First, write out in a step by step manner your reasoning about the criterion to be sure that your conclusion is correct. Avoid simply stating the correct answers at the outset. Then print only the single character "Y" or "N" (without quotes or punctuation) on its own line corresponding to the correct answer. At the end, repeat just the letter again by itself on a new line.

Reasoning:`

// DefaultFactualityPrompt is fact.yaml's prompt followed by Evals'
// cot_classify answer instruction (the eval_type Evals' factuality evals
// run it with) over the choices A to E.
const DefaultFactualityPrompt = `You are comparing a submitted answer to an expert answer on a given question. Here is the data:
[BEGIN DATA]
************
[Question]: {{.input}}
************
[Expert]: {{.expected}}
************
[Submission]: {{.output}}
************
[END DATA]

Compare the factual content of the submitted answer with the expert answer. Ignore any differences in style, grammar, or punctuation.
The submitted answer may either be a subset or superset of the expert answer, or it may conflict with it. Determine which case applies. Answer the question by selecting one of the following options:
(A) The submitted answer is a subset of the expert answer and is fully consistent with it.
(B) The submitted answer is a superset of the expert answer and is fully consistent with it.
(C) The submitted answer contains all the same details as the expert answer.
(D) There is a disagreement between the submitted answer and the expert answer.
(E) The answers differ, but these differences don't matter from the perspective of factuality.

First, write out in a step by step manner your reasoning to be sure that your conclusion is correct. Avoid simply stating the correct answer at the outset. Then print only a single choice from {{.choices}} (without quotes or punctuation) on its own line corresponding to the correct answer. At the end, repeat just the answer by itself on a new line.

Reasoning:`

// factualityScores are fact.yaml's choice_scores, as published in
// github.com/openai/evals evals/registry/modelgraded/fact.yaml (commit
// 96666339646c1cddfd76721b8970b4b60324852b; later versions of the file
// dropped choice_scores). Braintrust's autoevals uses other values (A 0.4,
// B 0.6, E 1).
var factualityScores = map[string]float64{"A": 0.5, "B": 0.75, "C": 1, "D": 0, "E": 0.75}

// DefaultClassifyPrompt is the default prompt template of `classify`,
// ending with OpenAI Evals' answer instruction for eval_type classify, or
// cot_classify with chain_of_thought.
const DefaultClassifyPrompt = `You are classifying a submitted output based on a criterion. Here is the data:
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
[Criterion]: {{.criteria}}
***
[END DATA]
{{if .chain_of_thought -}}
First, write out in a step by step manner your reasoning to be sure that your conclusion is correct. Avoid simply stating the correct answer at the outset. Then print only a single choice from {{.choices}} (without quotes or punctuation) on its own line corresponding to the correct answer. At the end, repeat just the answer by itself on a new line.

Reasoning:
{{- else -}}
Answer the question by printing only a single choice from {{.choices}} (without quotes or punctuation) corresponding to the correct answer with no other text.
{{- end}}`

// ClosedQAConfig holds the options of a `closed_qa` judge.
type ClosedQAConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Criteria is the criterion the submission must meet (a template).
	// Required.
	Criteria        string     `yaml:"criteria"`
	Prompt          any        `yaml:"prompt"`
	Input           string     `yaml:"input"`
	Params          llm.Params `yaml:"params"`
	MaxParseRetries *int       `yaml:"max_parse_retries"`
	Structured      *bool      `yaml:"structured"`
}

// FactualityConfig holds the options of a `factuality` judge. The expert
// answer is the judge's `expected`.
type FactualityConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Threshold: the verdict passes when the choice's score is at least
	// this (default 0.5: A, B, C and E pass, D fails).
	Threshold       *float64   `yaml:"threshold"`
	Prompt          any        `yaml:"prompt"`
	Input           string     `yaml:"input"`
	Params          llm.Params `yaml:"params"`
	MaxParseRetries *int       `yaml:"max_parse_retries"`
	Structured      *bool      `yaml:"structured"`
}

// ClassifyConfig holds the options of a `classify` judge.
type ClassifyConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Criteria is the question the model classifies the output by (a
	// template). Required.
	Criteria string `yaml:"criteria"`
	// Choices maps each label to its score in 0..1, for example
	// {good: 1, ok: 0.5, bad: 0}. At least two. The prompt lists them from
	// the highest score down (ties by label).
	Choices map[string]float64 `yaml:"choices"`
	// PassChoices are the labels that pass; by default those whose score
	// is at least Threshold.
	PassChoices []string `yaml:"pass_choices"`
	// Threshold is the score a label needs to pass when PassChoices is not
	// set (default 0.5).
	Threshold *float64 `yaml:"threshold"`
	// ChainOfThought asks for reasoning before the choice (Evals'
	// cot_classify); otherwise the model answers with the choice alone.
	ChainOfThought  bool       `yaml:"chain_of_thought"`
	Prompt          any        `yaml:"prompt"`
	Input           string     `yaml:"input"`
	Params          llm.Params `yaml:"params"`
	MaxParseRetries *int       `yaml:"max_parse_retries"`
	Structured      *bool      `yaml:"structured"`
}

// ChoiceJudge is a judge whose model picks one of a fixed set of choices,
// each with a score: the `closed_qa`, `factuality` and `classify` types.
// Its verdict's Label is the choice.
type ChoiceJudge struct {
	*llmCore
	choices      []string // in prompt order
	scores       map[string]float64
	pass         func(choice string) bool
	cot          bool // the answer comes last (cot_classify)
	fold         bool // match choices without regard to case
	criteria     *prompts.Template
	needExpected bool
	extra        map[string]any // more template data
}

var _ Judge = (*ChoiceJudge)(nil)

// choiceSchema returns the structured output of a choice judge: a
// reasoning (when cot) and then the choice, the enum listing the choices
// from the highest score down.
func choiceSchema(name string, choices []string, scores map[string]float64, cot bool) *llm.JSONSchema {
	enum := append([]string(nil), choices...)
	sort.SliceStable(enum, func(i, j int) bool { return scores[enum[i]] > scores[enum[j]] })
	choice := llmProp{"choice", map[string]any{"type": "string", "enum": enum, "description": "The chosen answer."}}
	if !cot {
		return llmSchema(name, "A grader's choice.", choice)
	}
	return llmSchema(name, "A grader's reasoning and choice.",
		llmProp{"reasoning", map[string]any{"type": "string", "description": "Step-by-step reasoning, written before the choice."}},
		choice)
}

// NewClosedQA returns a closed_qa judge: OpenAI Evals' closedqa
// model-graded spec. The model reasons step by step and answers Y (the
// submission meets the criterion; score 1, pass) or N (score 0, fail).
func NewClosedQA(cfg ClosedQAConfig, env Env) (*ChoiceJudge, error) {
	if cfg.Criteria == "" {
		return nil, errors.New("criteria: required (the criterion the submission must meet)")
	}
	criteria, err := llmParseText("closed_qa", "criteria", cfg.Criteria)
	if err != nil {
		return nil, err
	}
	choices := []string{"Y", "N"}
	scores := map[string]float64{"Y": 1, "N": 0}
	core, err := newLLMCore("closed_qa", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries, structured: cfg.Structured,
	}, env, DefaultClosedQAPrompt, choiceSchema("closed_qa_verdict", choices, scores, true),
		`your reasoning, then "Y" or "N" alone on the last line`)
	if err != nil {
		return nil, err
	}
	return &ChoiceJudge{llmCore: core, choices: choices, scores: scores,
		pass: func(c string) bool { return c == "Y" }, cot: true, criteria: criteria}, nil
}

// NewFactuality returns a factuality judge: OpenAI Evals' fact
// model-graded spec, comparing the output with the expert answer (the
// judge's expected) and choosing A to E, scored by fact.yaml's
// choice_scores.
func NewFactuality(cfg FactualityConfig, env Env) (*ChoiceJudge, error) {
	threshold := 0.5
	if t := cfg.Threshold; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 1 {
			return nil, fmt.Errorf("threshold: %v is outside 0..1", *t)
		}
		threshold = *t
	}
	choices := []string{"A", "B", "C", "D", "E"}
	core, err := newLLMCore("factuality", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries, structured: cfg.Structured,
	}, env, DefaultFactualityPrompt, choiceSchema("factuality_verdict", choices, factualityScores, true),
		`your reasoning, then one of "A", "B", "C", "D" or "E" alone on the last line`)
	if err != nil {
		return nil, err
	}
	return &ChoiceJudge{llmCore: core, choices: choices, scores: factualityScores,
		pass: func(c string) bool { return factualityScores[c] >= threshold }, cot: true, needExpected: true}, nil
}

// NewClassify returns a classify judge: the model picks one of the
// configured labels, whose score becomes the verdict's.
func NewClassify(cfg ClassifyConfig, env Env) (*ChoiceJudge, error) {
	if cfg.Criteria == "" {
		return nil, errors.New("criteria: required (the question to classify the output by)")
	}
	if len(cfg.Choices) < 2 {
		return nil, errors.New("choices: want at least two labels with their scores, for example {good: 1, ok: 0.5, bad: 0}")
	}
	choices := make([]string, 0, len(cfg.Choices))
	seen := map[string]string{}
	for label, score := range cfg.Choices {
		key := strings.ToLower(strings.TrimSpace(llmStripPunct(label)))
		switch {
		case key == "":
			return nil, fmt.Errorf("choices: label %q has no letters or digits", label)
		case strings.ContainsAny(label, "\n\r\""):
			return nil, fmt.Errorf("choices: label %q contains a newline or a double quote", label)
		case math.IsNaN(score) || score < 0 || score > 1:
			return nil, fmt.Errorf("choices.%s: score %v is outside 0..1", label, score)
		}
		if other, ok := seen[key]; ok {
			return nil, fmt.Errorf("choices: labels %q and %q differ only in case or punctuation", other, label)
		}
		seen[key] = label
		choices = append(choices, label)
	}
	sort.Slice(choices, func(i, j int) bool {
		si, sj := cfg.Choices[choices[i]], cfg.Choices[choices[j]]
		if si != sj {
			return si > sj
		}
		return choices[i] < choices[j]
	})
	threshold := 0.5
	if t := cfg.Threshold; t != nil {
		if math.IsNaN(*t) || *t < 0 || *t > 1 {
			return nil, fmt.Errorf("threshold: %v is outside 0..1", *t)
		}
		if len(cfg.PassChoices) > 0 {
			return nil, errors.New("threshold: set either pass_choices or threshold, not both")
		}
		threshold = *t
	}
	passSet := map[string]bool{}
	for _, p := range cfg.PassChoices {
		if _, ok := cfg.Choices[p]; !ok {
			return nil, fmt.Errorf("pass_choices: %q is not one of the choices %s", p, llmChoiceList(choices))
		}
		passSet[p] = true
	}
	pass := func(c string) bool { return cfg.Choices[c] >= threshold }
	if len(passSet) > 0 {
		pass = func(c string) bool { return passSet[c] }
	}
	criteria, err := llmParseText("classify", "criteria", cfg.Criteria)
	if err != nil {
		return nil, err
	}
	scores := make(map[string]float64, len(cfg.Choices))
	for k, v := range cfg.Choices {
		scores[k] = v
	}
	hint := "only one of " + llmChoiceList(choices)
	if cfg.ChainOfThought {
		hint = "your reasoning, then one of " + llmChoiceList(choices) + " alone on the last line"
	}
	core, err := newLLMCore("classify", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries, structured: cfg.Structured,
	}, env, DefaultClassifyPrompt, choiceSchema("classification", choices, scores, cfg.ChainOfThought), hint)
	if err != nil {
		return nil, err
	}
	return &ChoiceJudge{llmCore: core, choices: choices, scores: scores, pass: pass,
		cot: cfg.ChainOfThought, fold: true, criteria: criteria,
		extra: map[string]any{"chain_of_thought": cfg.ChainOfThought}}, nil
}

// choiceReply is what a choice judge read from a reply.
type choiceReply struct {
	choice    string
	reasoning string
}

// Judge asks the judge model to choose and scores the choice.
func (j *ChoiceJudge) Judge(ctx context.Context, in Input) (Verdict, error) {
	if j.needExpected && strings.TrimSpace(in.Expected) == "" {
		return Verdict{}, fmt.Errorf("%s needs the expert answer: set the judge's expected (for example expected: \"{{.example.answer}}\")", j.typ)
	}
	msgs, err := j.prompt(in)
	if err != nil {
		return Verdict{}, err
	}
	r, rep, err := llmAsk(ctx, j.llmCore, msgs, j.callParams(ctx), j.parse)
	if err != nil {
		return Verdict{}, err
	}
	score := j.scores[r.choice]
	det := j.details(rep)
	det["choice"] = r.choice
	reason := strings.TrimSpace(r.reasoning)
	if reason == "" {
		reason = fmt.Sprintf("the judge model chose %q", r.choice)
	}
	return Verdict{Score: Float(score), Pass: j.pass(r.choice), Label: r.choice, Reason: llmClip(reason, 2000), Details: det}, nil
}

// prompt renders the judge's templates for in: the messages to send.
func (j *ChoiceJudge) prompt(in Input) ([]llm.Message, error) {
	d, err := j.data(in)
	if err != nil {
		return nil, err
	}
	if d["criteria"], err = llmRenderText("criteria", j.criteria, d); err != nil {
		return nil, err
	}
	d["choices"] = llmChoiceList(j.choices)
	for k, v := range j.extra {
		d[k] = v
	}
	return j.render(d)
}

// CheckTemplates renders the judge's templates for in without calling
// the judge model (see TemplateChecker).
func (j *ChoiceJudge) CheckTemplates(in Input) error {
	_, err := j.prompt(in)
	return err
}

// parse reads the choice from a reply: from a JSON object's "choice" (or
// answer, label, classification, verdict) when the reply holds one, else
// as OpenAI Evals does (see llmEvalsChoice).
func (j *ChoiceJudge) parse(reply string) (choiceReply, error) {
	if obj, ok := llmJSONObject(reply); ok {
		if v, ok := llmField(obj, "choice", "answer", "label", "classification", "category", "verdict"); ok {
			s := strings.TrimSpace(llmStripPunct(llmText(v)))
			c, ok := j.matchExact(s)
			if !ok {
				return choiceReply{}, fmt.Errorf("the choice %s is not one of %s", quote(llmText(v)), llmChoiceList(j.choices))
			}
			var reasoning string
			if rv, ok := llmField(obj, llmReasonKeys...); ok {
				reasoning = llmText(rv)
			}
			return choiceReply{choice: c, reasoning: reasoning}, nil
		}
	}
	c, line, ok := llmEvalsChoice(reply, j.choices, j.cot, j.fold)
	if !ok {
		where := "alone on a line"
		if j.cot {
			where = "alone on the last line"
		}
		return choiceReply{}, fmt.Errorf("no choice found: want one of %s %s", llmChoiceList(j.choices), where)
	}
	// The reasoning is the reply without the line that gave the choice
	// and what follows (for cot) or precedes it.
	lines := strings.Split(strings.TrimSpace(reply), "\n")
	var reasoning string
	if j.cot {
		// Evals' cot prompts ask for the choice twice at the end.
		for line > 0 {
			prev := strings.TrimSpace(llmStripPunct(lines[line-1]))
			if _, ok := j.matchExact(prev); !ok && prev != "" {
				break
			}
			line--
		}
		reasoning = strings.Join(lines[:line], "\n")
	} else {
		reasoning = strings.Join(lines[line+1:], "\n")
	}
	return choiceReply{choice: c, reasoning: strings.TrimSpace(reasoning)}, nil
}

// matchExact returns the choice s names: equal, or equal without regard
// to case when exactly one choice is.
func (j *ChoiceJudge) matchExact(s string) (string, bool) {
	for _, c := range j.choices {
		if s == strings.TrimSpace(llmStripPunct(c)) {
			return c, true
		}
	}
	var found string
	n := 0
	for _, c := range j.choices {
		if strings.EqualFold(s, strings.TrimSpace(llmStripPunct(c))) {
			found = c
			n++
		}
	}
	return found, n == 1
}
