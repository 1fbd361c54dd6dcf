package judges

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// PairwiseConfig holds the options of a `pairwise` judge.
type PairwiseConfig struct {
	// Model is the judge model, "provider/model". Required.
	Model string `yaml:"model"`
	// Criteria says what makes an output better (a template); the default
	// is DefaultPairwiseCriteria.
	Criteria        string     `yaml:"criteria"`
	Prompt          any        `yaml:"prompt"`
	Input           string     `yaml:"input"`
	Params          llm.Params `yaml:"params"`
	MaxParseRetries *int       `yaml:"max_parse_retries"`
	Structured      *bool      `yaml:"structured"`
}

// DefaultPairwiseCriteria is the criterion of a pairwise judge that sets
// none.
const DefaultPairwiseCriteria = "Which output answers the input more helpfully, correctly and clearly?"

// DefaultPairwisePrompt is the default prompt template of `pairwise`. Its
// data has output_a and output_b (the outputs in the order shown) besides
// the usual keys.
const DefaultPairwisePrompt = `You are comparing two outputs written for the same input, to decide which one is better. Here is the data:
[BEGIN DATA]
***
[Input]: {{.input}}
***
{{- if .expected}}
[Reference]: {{.expected}}
***
{{- end}}
[Output A]: {{.output_a}}
***
[Output B]: {{.output_b}}
***
[Criterion]: {{.criteria}}
***
[END DATA]
Which output better meets the criterion? Do not let the order in which the outputs are shown, their length or their style sway you. First explain your reasoning step by step, then give your verdict: "A" if output A is better, "B" if output B is better, "tie" if neither is.
Reply with a JSON object with the keys "reasoning" (written first) and "winner" ("A", "B" or "tie").`

var pairwiseSchema = llmSchema("pairwise_verdict", "A grader's comparison of two outputs.",
	llmProp{"reasoning", map[string]any{"type": "string", "description": "Step-by-step comparison, written before the verdict."}},
	llmProp{"winner", map[string]any{"type": "string", "enum": []string{"A", "B", "tie"}, "description": "The better output, or tie."}},
)

// Pairwise asks a judge model which of two variants' outputs is better. It
// asks twice, with the outputs in both orders; when the two verdicts
// disagree (position bias), the pair is a tie with Consistent false.
//
// It implements PairJudge; its Judge method, for a single output, is an
// error.
type Pairwise struct {
	*llmCore
	criteria *prompts.Template
}

var (
	_ PairJudge = (*Pairwise)(nil)
	_ Judge     = (*Pairwise)(nil)
)

// NewPairwise returns a pairwise judge calling env.Model.
func NewPairwise(cfg PairwiseConfig, env Env) (*Pairwise, error) {
	text := cfg.Criteria
	if text == "" {
		text = DefaultPairwiseCriteria
	}
	criteria, err := llmParseText("pairwise", "criteria", text)
	if err != nil {
		return nil, err
	}
	core, err := newLLMCore("pairwise", llmOptions{
		model: cfg.Model, prompt: cfg.Prompt, input: cfg.Input, params: cfg.Params,
		maxParseRetries: cfg.MaxParseRetries, structured: cfg.Structured,
	}, env, DefaultPairwisePrompt, pairwiseSchema, `a JSON object with the keys "reasoning" and "winner" ("A", "B" or "tie")`)
	if err != nil {
		return nil, err
	}
	return &Pairwise{llmCore: core, criteria: criteria}, nil
}

// errPairwiseSingle is Pairwise.Judge's error.
var errPairwiseSingle = errors.New("pairwise compares two variants' outputs for the same example: it runs once per example and pair of variants (JudgePair), not on a single output")

// Judge returns an error: a pairwise judge needs two outputs.
func (j *Pairwise) Judge(context.Context, Input) (Verdict, error) {
	return Verdict{}, errPairwiseSingle
}

// pairOrder is one of the two presentations of a pair.
type pairOrder struct {
	first     string // "A" when in.A's output is shown first, else "B"
	said      string // the model's answer: "A" (the first shown), "B" or "tie"
	winner    string // mapped back to the variants: "A" (in.A), "B" or "tie"
	reasoning string
	rep       llmReply
}

// JudgePair asks for a verdict with in.A's output shown first, then with
// in.B's shown first, and combines them: the same winner both times wins
// (Consistent true); different verdicts make a tie (Consistent false).
// Both verdicts are in Details["orders"].
func (j *Pairwise) JudgePair(ctx context.Context, in PairInput) (PairVerdict, error) {
	var orders [2]pairOrder
	for i, first := range []string{"A", "B"} {
		shownA, shownB := in.OutputA, in.OutputB
		if first == "B" {
			shownA, shownB = in.OutputB, in.OutputA
		}
		msgs, err := j.prompt(in, shownA, shownB)
		if err != nil {
			return PairVerdict{}, err
		}
		r, rep, err := llmAsk(ctx, j.llmCore, msgs, j.callParams(ctx), parsePairwise)
		if err != nil {
			return PairVerdict{}, fmt.Errorf("%s shown first: %w", pairName(in, first), err)
		}
		o := pairOrder{first: first, said: r.winner, winner: r.winner, reasoning: r.reasoning, rep: rep}
		if first == "B" && r.winner != "tie" {
			o.winner = map[string]string{"A": "B", "B": "A"}[r.winner]
		}
		orders[i] = o
	}
	det := map[string]any{"model": j.modelID}
	var list []map[string]any
	for _, o := range orders {
		list = append(list, map[string]any{
			"first": o.first, "said": o.said, "winner": o.winner,
			"reasoning": llmClip(o.reasoning, 2000), "reply": llmClip(o.rep.resp.Content, llmReplyDetailRunes),
			"attempts": o.rep.attempts, "structured": o.rep.structured,
		})
	}
	det["orders"] = list
	v := PairVerdict{Details: det}
	a, b := orders[0], orders[1]
	if a.winner == b.winner {
		v.Winner, v.Consistent = Winner(a.winner), true
		if a.winner == "tie" {
			v.Reason = "a tie in both orders"
		} else {
			v.Reason = fmt.Sprintf("%s is better in both orders: %s", pairName(in, a.winner), llmClip(a.reasoning, 500))
		}
		return v, nil
	}
	v.Winner, v.Consistent = WinnerTie, false
	v.Reason = fmt.Sprintf("inconsistent, counted as a tie: with %s shown first the judge chose %s, with %s shown first %s",
		pairName(in, "A"), pairWinnerName(in, a.winner), pairName(in, "B"), pairWinnerName(in, b.winner))
	if a.said == b.said && a.said != "tie" {
		v.Reason += " (it preferred the output shown " + map[string]string{"A": "first", "B": "second"}[a.said] + " both times: position bias)"
	}
	return v, nil
}

// prompt renders the judge's templates for in with outputs a and b shown
// first and second: the messages to send.
func (j *Pairwise) prompt(in PairInput, a, b string) ([]llm.Message, error) {
	d, err := j.data(Input{Output: a, Expected: in.Expected, Example: in.Example})
	if err != nil {
		return nil, err
	}
	d["output_a"], d["output_b"] = a, b
	if d["criteria"], err = llmRenderText("criteria", j.criteria, d); err != nil {
		return nil, err
	}
	return j.render(d)
}

// CheckTemplates renders the judge's templates for in, with in.Output as
// both outputs of the pair, without calling the judge model (see
// TemplateChecker).
func (j *Pairwise) CheckTemplates(in Input) error {
	_, err := j.prompt(PairInput{Example: in.Example, Expected: in.Expected, A: in.Variant, B: in.Variant}, in.Output, in.Output)
	return err
}

// pairName names side "A" or "B" of a pair by its variant.
func pairName(in PairInput, side string) string {
	name := in.A
	if side == "B" {
		name = in.B
	}
	if name == "" {
		return side
	}
	return fmt.Sprintf("%s (%s)", side, name)
}

func pairWinnerName(in PairInput, w string) string {
	if w == "tie" {
		return "a tie"
	}
	return pairName(in, w)
}

// pairwiseReply is what a pairwise reply says.
type pairwiseReply struct {
	winner    string // "A", "B" or "tie"
	reasoning string
}

var (
	// MT-Bench's verdict format: [[A]], [[B]], [[C]] for a tie.
	pairBracketRe = regexp.MustCompile(`\[\[\s*(A|B|C|tie|TIE|Tie)\s*\]\]`)
	pairWordRe    = regexp.MustCompile(`(?i)^(?:output|response|answer|assistant)?\s*([ab])$`)
)

// pairWinner reads a winner value: A, B, tie (or draw, equal, neither,
// both), optionally as "Output A" or "Response B".
func pairWinner(s string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(llmStripPunct(s)))
	switch w {
	case "tie", "draw", "equal", "neither", "both", "none", "same":
		return "tie", true
	}
	if m := pairWordRe.FindStringSubmatch(w); m != nil {
		return strings.ToUpper(m[1]), true
	}
	return "", false
}

// parsePairwise reads a pairwise verdict: a JSON object's "winner" (or
// verdict, choice, answer, better), MT-Bench's [[A]]/[[B]]/[[C]], a
// "Winner: A" line, or a last line that is only A, B or tie.
func parsePairwise(reply string) (pairwiseReply, error) {
	if obj, ok := llmJSONObject(reply); ok {
		if v, ok := llmField(obj, "winner", "verdict", "choice", "answer", "better", "preferred"); ok {
			w, ok := pairWinner(llmText(v))
			if !ok {
				return pairwiseReply{}, fmt.Errorf(`the winner %s is not "A", "B" or "tie"`, quote(llmText(v)))
			}
			var reasoning string
			if rv, ok := llmField(obj, llmReasonKeys...); ok {
				reasoning = llmText(rv)
			}
			return pairwiseReply{winner: w, reasoning: reasoning}, nil
		}
	}
	if ms := pairBracketRe.FindAllStringSubmatch(reply, -1); len(ms) > 0 {
		w := strings.ToUpper(ms[len(ms)-1][1])
		if w == "C" || w == "TIE" {
			w = "tie"
		}
		return pairwiseReply{winner: w, reasoning: strings.TrimSpace(pairBracketRe.ReplaceAllString(reply, ""))}, nil
	}
	lines := strings.Split(strings.TrimSpace(reply), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if k, v, ok := llmKeyValue(lines[i]); ok {
			switch k {
			case "winner", "verdict", "final verdict", "better output", "answer", "choice":
				if w, ok := pairWinner(v); ok {
					return pairwiseReply{winner: w, reasoning: strings.TrimSpace(strings.Join(lines[:i], "\n"))}, nil
				}
			}
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		if w, ok := pairWinner(lines[i]); ok {
			return pairwiseReply{winner: w, reasoning: strings.TrimSpace(strings.Join(lines[:i], "\n"))}, nil
		}
		break
	}
	return pairwiseReply{}, errors.New(`no verdict found: want a JSON object with "winner" ("A", "B" or "tie")`)
}
