package judges

// Kind groups judge types in listings (`gavel judges`) and tells the
// runner which judges call a model.
type Kind string

// The kinds of the built-in judge types.
const (
	KindString    Kind = "string"    // text matching: equals, contains, regex, length, ...
	KindStructure Kind = "structure" // JSON validity, equality and schemas
	KindOverlap   Kind = "overlap"   // reference overlap: BLEU, chrF, ROUGE, SQuAD, edit distance
	KindTask      Kind = "task"      // task answers: a final number, a choice letter
	KindRun       Kind = "run"       // run facts: latency, ttft, cost, tokens
	KindTools     Kind = "tools"     // tool calls and trajectories
	KindMeaning   Kind = "meaning"   // embedding similarity
	KindCustom    Kind = "custom"    // a program of the user's
	KindLLM       Kind = "llm"       // a judge model
)

// Kinds returns the kinds of the built-in judge types in the order
// listings show them.
func Kinds() []Kind {
	return []Kind{KindString, KindStructure, KindOverlap, KindTask, KindRun, KindMeaning, KindCustom, KindLLM}
}

// Builtin returns a new Catalog holding gavel's built-in judge types. Each
// call returns a fresh catalog, which the caller may extend with Register
// without affecting any other.
//
// Every type is registered here, once, with its kind and (where it
// declares one) its scale. The LLM judge types call Env.Model (Build fails
// when it is nil), with Request.Name the judge type until NameCalls names
// them (a panel names its members' calls after the members). The panel
// type builds its members from the catalog itself, so it sees every type
// registered in it, including ones registered after it.
func Builtin() Catalog {
	c := Catalog{}
	for _, f := range []Factory{
		// string
		factory(KindString, "equals",
			"passes when the output equals the expected text, optionally ignoring case, whitespace and punctuation",
			NewEquals),
		factory(KindString, "contains",
			"passes when the output contains a value (or the expected text)",
			NewContains),
		factory(KindString, "regex",
			"passes when the output matches a regular expression (RE2 syntax)",
			NewRegex),
		factory(KindString, "icontains",
			"passes when the output contains a value (or the expected text), ignoring case",
			NewIContains),
		factory(KindString, "contains_any",
			"passes when the output contains at least one of a list of values",
			NewContainsAny),
		factory(KindString, "contains_all",
			"passes when the output contains every one of a list of values",
			NewContainsAll),
		factory(KindString, "not_contains",
			"passes when the output does not contain a value (or the expected text)",
			NewNotContains),
		factory(KindString, "starts_with",
			"passes when the output starts with a value (or the expected text)",
			NewStartsWith),
		factory(KindString, "length",
			"passes when the output's length in characters is within min and max",
			NewLength),
		factory(KindString, "word_count",
			"passes when the output's number of words is within min and max",
			NewWordCount),

		// structure
		factory(KindStructure, "json_valid",
			"passes when the output is one valid JSON value, optionally inside a Markdown code fence",
			NewJSONValid),
		envFactory(KindStructure, "json_schema",
			"passes when the output is JSON valid against a JSON Schema (draft 2020-12, 2019-09, 7, 6 or 4)",
			NewJSONSchema),
		factory(KindStructure, "json_equals",
			"passes when the output is JSON equal to the expected JSON, ignoring key order, whitespace and number formatting",
			NewJSONEquals),

		// tools
		factory(KindTools, "tool_call_match",
			"passes when the tool calls made are the expected ones: names and arguments as JSON values (BFCL's AST rules), in any or exact order",
			NewToolCallMatch),
		factory(KindTools, "tool_call_f1",
			"scores the tool calls by F1 of precision and recall against the expected calls; also a micro-averaged corpus F1",
			NewToolCallF1),
		factory(KindTools, "trajectory",
			"compares the sequence of tools called with the expected one: exact, in order, or in any order",
			NewTrajectory),
		factory(KindTools, "tool_args_schema",
			"passes when every tool call names a tool offered and has arguments valid against its JSON Schema",
			NewToolArgsSchema),

		// overlap
		factory(KindOverlap, "levenshtein",
			"scores the output by its edit-distance similarity to the expected text (code points; 1 - distance/longer length)",
			NewLevenshtein),
		factory(KindOverlap, "bleu",
			"scores the output by sentence BLEU against the references, as sacrebleu computes it (13a tokenisation, exp smoothing); also corpus BLEU",
			NewBLEU),
		factory(KindOverlap, "chrf",
			"scores the output by chrF (word_order: 2 for chrF++) against the references, as sacrebleu computes it; also corpus chrF",
			NewChrF),
		factory(KindOverlap, "rouge_1",
			"scores the output by ROUGE-1 (unigram overlap) against the references, as Google's rouge-score computes it",
			NewRouge1),
		factory(KindOverlap, "rouge_2",
			"scores the output by ROUGE-2 (bigram overlap) against the references, as Google's rouge-score computes it",
			NewRouge2),
		factory(KindOverlap, "rouge_l",
			"scores the output by ROUGE-L (longest common subsequence) against the references, as Google's rouge-score computes it",
			NewRougeL),
		factory(KindOverlap, "exact_match",
			"passes when the output equals a gold answer after SQuAD v1.1 normalisation (case, punctuation, articles, whitespace)",
			NewExactMatch),
		factory(KindOverlap, "f1",
			"scores the output by SQuAD v1.1 token F1 against the best-matching gold answer",
			NewF1),

		// task
		factory(KindTask, "numeric_match",
			"passes when the final number of the output equals the expected answer's (GSM8K \"####\" aware; exact or within a tolerance)",
			NewNumericMatch),
		factory(KindTask, "choice",
			"passes when the multiple-choice letter found in the output equals the expected letter",
			NewChoice),

		// run facts
		factory(KindRun, "latency",
			"passes when the chain's latency is at most max_ms",
			NewLatency),
		factory(KindRun, "ttft",
			"passes when the chain's time to first token (of a streamed model call) is at most max_ms",
			NewTTFT),
		factory(KindRun, "cost",
			"passes when the chain's cost is at most max_usd",
			NewCost),
		factory(KindRun, "tokens",
			"passes when the chain's token count (total, prompt or completion) is at most max",
			NewTokens),

		// meaning
		envFactory(KindMeaning, "similar",
			"passes when the embeddings of the output and the expected text have a cosine similarity of at least threshold",
			NewSimilar),

		// custom
		envFactory(KindCustom, "exec",
			"runs a program that reads the output as JSON on stdin and prints a verdict as JSON",
			NewExec),

		// llm
		envFactory(KindLLM, "llm_rubric",
			"asks a judge model whether the output satisfies a rubric; reason, pass and score 0..1",
			NewLLMRubric),
		envFactory(KindLLM, "closed_qa",
			"OpenAI Evals' closedqa: a judge model reasons, then answers Y or N to whether the output meets a criterion",
			NewClosedQA),
		envFactory(KindLLM, "factuality",
			"OpenAI Evals' fact: a judge model compares the output with the expected expert answer (A-E, scored 0.5/0.75/1/0/0.75)",
			NewFactuality).withScale(ScaleOrdinal),
		envFactory(KindLLM, "classify",
			"a judge model picks one of your labels for the output; each label has a score",
			NewClassify).withScale(ScaleOrdinal),
		envFactory(KindLLM, "g_eval",
			"G-Eval: a judge model rates the output 1..max_score following evaluation steps; probability-weighted or sampled score",
			NewGEval), // its scale depends on its options: GEval.Scale
		envFactory(KindLLM, "pairwise",
			"a judge model picks the better of two variants' outputs, asked in both orders (disagreement is a tie)",
			NewPairwise),
		panelFactory(c),
	} {
		c.Register(f)
	}
	return c
}

// panelFactory is the Factory of the panel type, whose members are built
// from cat.
func panelFactory(cat Catalog) Factory {
	return envFactory(KindLLM, "panel",
		"several judges (e.g. llm_rubric on different models) combined by majority vote or mean score, with their agreement",
		func(pc PanelConfig, env Env) (*Panel, error) { return NewPanel(pc, env, cat) })
}
