package report

import (
	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/report/stats"
)

// FormatVersion is the version of the JSON report schema (docs/report-json.md).
// It changes only when a field is renamed or its meaning changes; fields
// are added freely.
const FormatVersion = 1

// Report is everything `gavel report` and `gavel compare` say about one or
// two runs; every output format (text, Markdown, JSON, JUnit, HTML) renders
// this one document. Slices are never nil in JSON.
type Report struct {
	FormatVersion int `json:"format_version"`
	// Kind is "report" (one run), "compare" (pairs of variants) or
	// "summary" (the streamed figures of Summarize, without intervals or
	// comparisons).
	Kind string `json:"kind"`
	// Runs are the runs read, baseline first.
	Runs []RunRef `json:"runs"`
	// Variants hold per-variant figures, in order: the baseline's first.
	Variants []VariantStats `json:"variants"`
	// Comparisons compare pairs of variants (B against A) judge by judge.
	Comparisons []Comparison `json:"comparisons"`
	// Pairwise tallies pairwise judges' verdicts; Ranking ranks variants by
	// a Bradley–Terry model of them (three or more variants).
	Pairwise []PairSummary `json:"pairwise"`
	Ranking  []Rank        `json:"ranking"`
	// Gates are the quality gates evaluated, when any.
	Gates []GateResult `json:"gates"`
	// Alpha is the significance level of tests and gates (0.05).
	Alpha float64 `json:"alpha"`
	// PAdjust is the p-value adjustment applied over every (comparison,
	// judge) p-value of the report ("holm", "hochberg", "bh", "by",
	// "bonferroni" or "none"); ZeroMethod is Wilcoxon's treatment of zero
	// differences ("wilcox", "pratt" or "zsplit").
	PAdjust    string `json:"p_adjust"`
	ZeroMethod string `json:"zero_method"`
	// Warnings are things a reader must know to trust the numbers.
	Warnings []string `json:"warnings"`

	// page holds the HTML page's rows, read while the report was built
	// (Options.HTML), or is nil.
	page *pagePrefetch
}

// RunRef identifies a run.
type RunRef struct {
	RunID     string            `json:"run_id"`
	Dir       string            `json:"dir"`
	Name      string            `json:"name"`
	Status    results.RunStatus `json:"status"`
	Mode      results.Mode      `json:"mode,omitempty"`
	StartedAt string            `json:"started_at"`
	GitCommit string            `json:"git_commit,omitempty"`
}

// VariantStats are one variant's figures. When two runs are compared, Name
// is "<run id>:<variant>" unless the variant names alone are unambiguous.
type VariantStats struct {
	Name    string `json:"name"`
	Run     string `json:"run_id"`
	Variant string `json:"variant"`
	// Prompt names the variant's prompt (NAME@VERSION, with the label it
	// was named by, for a registry prompt; the file for a prompt file;
	// "inline") and PromptHash is its content hash; both empty when the
	// variant has none.
	Prompt     string `json:"prompt,omitempty"`
	PromptHash string `json:"prompt_hash,omitempty"`
	// Results counts every result row; OK those whose chain produced an
	// output; Errors those whose chain or model failed.
	Results   int     `json:"results"`
	OK        int     `json:"ok"`
	Errors    int     `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	Epochs    int     `json:"epochs"`
	// Latency of the chain, in milliseconds (NumPy's linear quantiles),
	// over all results.
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP95 float64 `json:"latency_p95_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	// Tokens and cost summed over results; Unpriced results had no known
	// price and are not in CostUSD.
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	CostUSD          float64 `json:"cost_usd"`
	Unpriced         int     `json:"unpriced"`
	// The judges' own model calls (LLM judges), apart from the chain's
	// above: JudgeCalls counts them, summed from the run's traces; the
	// JudgeUnpriced calls had no known price and are not in JudgeCostUSD.
	JudgePromptTokens     int64   `json:"judge_prompt_tokens"`
	JudgeCompletionTokens int64   `json:"judge_completion_tokens"`
	JudgeCostUSD          float64 `json:"judge_cost_usd"`
	JudgeCalls            int     `json:"judge_calls"`
	JudgeUnpriced         int     `json:"judge_unpriced"`
	// FromCache counts the results whose model calls the cache answered
	// (every one): their latency, tokens and cost, counted above, are
	// those of the calls made when the replies were recorded.
	FromCache int `json:"from_cache,omitempty"`
	// Judges hold per-judge figures, in the spec's order.
	Judges []JudgeStats `json:"judges"`
	// Metrics are corpus-level metrics (corpus BLEU, ...).
	Metrics []results.CorpusMetric `json:"metrics"`
}

// JudgeStats are one judge's figures for one variant. Every figure uses
// the valid rows only (status ok); the counts say how many those were and
// why the others are not in.
type JudgeStats struct {
	Judge string `json:"judge"`
	Type  string `json:"type"`
	// Valid are judged rows (status ok); Passed and Failed split them.
	Valid  int `json:"valid"`
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// JudgeErrors could not be judged; Skipped had no output (chain error).
	JudgeErrors int `json:"judge_errors"`
	Skipped     int `json:"skipped"`
	// PassRate = Passed/Valid with its Wilson 95% interval.
	PassRate   *float64        `json:"pass_rate"`
	PassRateCI *stats.Interval `json:"pass_rate_ci"`
	// Mean score with its 95% interval (scored rows only): Wilson's when
	// every score is 0 or 1 (the mean is then a pass rate), else
	// Student's t, cut to [0, 1] when every score lies in 0..1.
	Scored int             `json:"scored"`
	Mean   *float64        `json:"mean"`
	MeanCI *stats.Interval `json:"mean_ci"`
	// With several epochs: the mean of per-example means, with its
	// cluster-robust standard error (examples as clusters) and interval
	// (cut to [0, 1] when every score lies in 0..1).
	ClusteredSE *float64        `json:"clustered_se,omitempty"`
	ClusteredCI *stats.Interval `json:"clustered_ci,omitempty"`
	// Graded is true when some score is neither 0 nor 1.
	Graded bool `json:"graded"`
}

// Comparison compares variant B with variant A on the examples both have.
type Comparison struct {
	A string `json:"a"`
	B string `json:"b"`
	// Paired counts (example, epoch) pairs present on both sides; OnlyA and
	// OnlyB list the example ids present on one side only (never dropped
	// silently).
	Paired int               `json:"paired"`
	OnlyA  []string          `json:"only_a"`
	OnlyB  []string          `json:"only_b"`
	Judges []JudgeComparison `json:"judges"`
	// PromptDiff is how B's prompt differs from A's, text and config, as
	// a unified diff with changed words marked [-old-]{+new+}, when they
	// differ and one came from the prompt registry or a file.
	PromptDiff string `json:"prompt_diff,omitempty"`
}

// JudgeComparison is one judge's paired comparison of B against A. The unit
// is the example: with several epochs, each side's per-example mean.
type JudgeComparison struct {
	Judge string `json:"judge"`
	// N is the number of examples with a valid verdict on both sides.
	N int `json:"n"`
	// MeanA, MeanB: mean scores over the N paired examples; Diff = B − A.
	MeanA float64 `json:"mean_a"`
	MeanB float64 `json:"mean_b"`
	Diff  float64 `json:"diff"`
	// DiffCI: paired percentile bootstrap (10,000 resamples, fixed seed);
	// DiffCINormal: the normal approximation, alongside.
	DiffCI       stats.Interval `json:"diff_ci"`
	DiffCINormal stats.Interval `json:"diff_ci_normal"`
	// PassRateA, PassRateB over the N paired examples.
	PassRateA float64 `json:"pass_rate_a"`
	PassRateB float64 `json:"pass_rate_b"`
	// Scale is the judge's level of measurement, which chose the test
	// under Options.Test "auto": "binary", "ordinal" or "continuous",
	// declared by the judge type or the spec's `scale:`, else inferred
	// from the scores (binary when every score is 0 or 1).
	Scale string `json:"scale"`
	// Test is "mcnemar_exact" (binary verdicts, one epoch), "sign"
	// (ordinal judges, or Options.Test "sign"), "paired_t" (Options.Test
	// "t") or "wilcoxon_signed_rank"; Method how its p-value was
	// computed: "exact" (McNemar and the sign test always; Wilcoxon
	// without ties or zeros and n < 50), "normal+cc" (Wilcoxon's
	// tie-corrected normal approximation with continuity correction) or
	// "t"; "" when there is no p-value.
	Test   string `json:"test"`
	Method string `json:"method"`
	// Statistic is the test statistic: Wilcoxon's V (the rank sum of the
	// positive differences B − A), McNemar's b, the number of examples A
	// passed and B failed, the sign test's number of positive differences,
	// the paired t. Z is Wilcoxon's standardized statistic, nil
	// unless Method is a normal approximation.
	Statistic float64  `json:"statistic"`
	Z         *float64 `json:"z,omitempty"`
	// P (= PRaw) is the two-sided p-value, PAdjusted the same after the
	// report's p-value adjustment (Report.PAdjust, Holm by default) over
	// every (comparison, judge) p-value of the report.
	P    float64 `json:"p"`
	PRaw float64 `json:"p_raw"`
	// Alternative is the alternative hypothesis P was computed for:
	// "two-sided", "greater" (B better than A) or "less" (B worse).
	Alternative stats.Alternative `json:"alternative"`
	// T and DF are the paired t-test's statistic and degrees of freedom
	// and DiffCIT its 95% interval for the mean difference (one end
	// infinite, written null, for a one-sided alternative); set only when
	// Test is "paired_t" and the test is defined.
	T         *float64        `json:"t,omitempty"`
	DF        *float64        `json:"df,omitempty"`
	DiffCIT   *stats.Interval `json:"diff_ci_t,omitempty"`
	PAdjusted float64         `json:"p_adjusted"`
	// Improved, Regressed and Equal count examples by the sign of B − A.
	Improved  int `json:"improved"`
	Regressed int `json:"regressed"`
	Equal     int `json:"equal"`
	// Direction is the sign of the test's departure from its null value
	// (1: B better, -1: B worse, 0: neither), which sets the direction of
	// a significant Verdict: the sign of Diff for McNemar and the t-test,
	// of positive minus negative differences for the sign test, of z (or
	// V − n(n+1)/4) for Wilcoxon.
	Direction int `json:"direction"`
	// Verdict is VerdictImproved, VerdictRegressed, VerdictNoDifference or
	// VerdictNotEnoughData. The direction of a significant result is the
	// test's own (the sign of the statistic's departure from its null
	// value), which for the sign and Wilcoxon tests can differ from the
	// sign of Diff.
	Verdict Verdict `json:"verdict"`
	// MDE is the smallest difference this n could detect with 80% power at
	// α (in score units; for pass/fail judges, in pass rate), for the
	// report's alternative: one-sided when it is "greater" or "less".
	MDE float64 `json:"mde"`
	// MDEMethod is how MDE was computed: MDEPairedT, MDENormal or
	// MDEMcNemar.
	MDEMethod MDEMethod `json:"mde_method"`
	// Regressions are the examples whose score dropped most, worst first;
	// Improvements those that rose most.
	Regressions  []ExampleChange `json:"regressions"`
	Improvements []ExampleChange `json:"improvements"`
}

// Verdict is the outcome of one judge's paired comparison of B against A
// (JudgeComparison.Verdict).
type Verdict string

// The values of JudgeComparison.Verdict.
const (
	// VerdictImproved: B is significantly better than A (the adjusted
	// p-value is below the report's Alpha).
	VerdictImproved Verdict = "improved"
	// VerdictRegressed: B is significantly worse than A.
	VerdictRegressed Verdict = "regressed"
	// VerdictNoDifference: the test found no significant difference.
	VerdictNoDifference Verdict = "no significant difference"
	// VerdictNotEnoughData: fewer than two paired examples, or the test
	// gave no p-value.
	VerdictNotEnoughData Verdict = "not enough data"
)

// ExampleChange is one example under both variants.
type ExampleChange struct {
	ExampleID string  `json:"example_id"`
	Epoch     int     `json:"epoch"`
	Input     string  `json:"input"`
	Expected  string  `json:"expected,omitempty"`
	OutputA   string  `json:"output_a"`
	OutputB   string  `json:"output_b"`
	ScoreA    float64 `json:"score_a"`
	ScoreB    float64 `json:"score_b"`
	PassA     bool    `json:"pass_a"`
	PassB     bool    `json:"pass_b"`
	ReasonA   string  `json:"reason_a,omitempty"`
	ReasonB   string  `json:"reason_b,omitempty"`
	TraceA    string  `json:"trace_a,omitempty"`
	TraceB    string  `json:"trace_b,omitempty"`
}

// Rank is a variant's Bradley–Terry log-strength with its 95% interval.
type Rank struct {
	Judge   string         `json:"judge"`
	Variant string         `json:"variant"`
	Score   float64        `json:"score"`
	CI      stats.Interval `json:"ci"`
}

// GateResult is one evaluated quality gate.
type GateResult struct {
	// Gate describes it, e.g. "correct: min_pass_rate 0.80".
	Gate    string `json:"gate"`
	Judge   string `json:"judge,omitempty"`
	Variant string `json:"variant"`
	Passed  bool   `json:"passed"`
	// Value is the measured figure; Threshold the gate's.
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Detail explains a failure with its numbers.
	Detail string `json:"detail"`
}
