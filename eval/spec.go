package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/internal/yamlstrict"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// Spec is a parsed gavel.yaml: the dataset, the chain, the variants, the
// judges and the gates of an evaluation. docs/spec.md documents every key.
type Spec struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	Dataset     DatasetSpec             `yaml:"dataset"`
	Providers   map[string]ProviderSpec `yaml:"providers"`
	Prices      map[string]llm.Price    `yaml:"prices"`
	// PricesFile is a price list in LiteLLM's JSON layout, relative to the
	// spec; its prices come under Prices' (see llm.ReadPricesFile).
	PricesFile string        `yaml:"prices_file"`
	Timeout    time.Duration `yaml:"timeout"`
	// ExampleTimeout bounds one example's whole chain (all its steps and
	// their retries); 0 means no bound.
	ExampleTimeout time.Duration `yaml:"example_timeout"`
	// Retry tunes retries of model calls; Limits sets rate limits by
	// provider or provider/model.
	Retry       llm.RetryPolicy      `yaml:"retry"`
	Limits      map[string]llm.Limit `yaml:"limits"`
	Concurrency int                  `yaml:"concurrency"`
	Repeat      int                  `yaml:"repeat"`
	Variants    []VariantSpec        `yaml:"variants"`
	Chain       []StepSpec           `yaml:"chain"`
	Judges      []JudgeSpec          `yaml:"judges"`
	Gates       []GateSpec           `yaml:"gates"`
	// Score tells `gavel score` where stored outputs are in an input file.
	Score *ScoreSpec `yaml:"score"`
	// PromptsDir is the prompt registry's directory, relative to the spec
	// (default prompts).
	PromptsDir string `yaml:"prompts_dir"`
	// Shard runs only shard "I/N" of the examples (see Options.Shard,
	// which overrides it; gavel run --shard).
	Shard string `yaml:"shard"`
	// StoreImages records the images of prompts on the spans as sent;
	// by default an image given as data is recorded as its media type,
	// size and SHA-256 only.
	StoreImages bool `yaml:"store_images"`

	// Path is the spec file's path; Dir is its directory, against which
	// relative paths in the spec are resolved.
	Path string `yaml:"-"`
	Dir  string `yaml:"-"`
	// Source is the spec file's text; Hash its content hash.
	Source string `yaml:"-"`
	Hash   string `yaml:"-"`

	catalog    judges.Catalog
	promptsDir string // the prompt registry's directory, absolute
	// pins are the prompts and configs resolved from the registry and
	// files (or taken from a stored run's pins when pinned), for the
	// manifest.
	pins   Pins
	pinned bool
	// toolFuncs are LoadOptions.Tools.
	toolFuncs map[string]ToolFunc
}

// DatasetSpec is the spec's `dataset` section.
type DatasetSpec struct {
	// Path of a JSONL, CSV or Parquet file, relative to the spec.
	Path string `yaml:"path"`
	// Format overrides detection by extension: jsonl, csv or parquet.
	Format string `yaml:"format"`
	// ID is a field name or a template over the example's fields giving
	// its stable id; empty means a hash of the example's content.
	ID string `yaml:"id"`
	// Expected is a template giving the value stored in the results'
	// `expected` column; empty means the first judge's expected.
	Expected string `yaml:"expected"`
	// Limit keeps the first Limit examples (after sampling).
	Limit int `yaml:"limit"`
	// Sample chooses Sample examples deterministically with Seed.
	Sample int   `yaml:"sample"`
	Seed   int64 `yaml:"seed"`
	// StrictUTF8 makes a dataset string that is not valid UTF-8 an error
	// naming the file, line and field (see datasets.Options.StrictUTF8).
	StrictUTF8 bool `yaml:"strict_utf8"`
}

// ProviderSpec names an OpenAI-compatible endpoint. Models on it are
// written "<provider name>/<model>".
type ProviderSpec struct {
	BaseURL   string `yaml:"base_url"`
	APIKeyEnv string `yaml:"api_key_env"`
	Type      string `yaml:"type"`
}

// VariantSpec is one variant: a model, a prompt and parameters.
type VariantSpec struct {
	Name   string     `yaml:"name"`
	Model  string     `yaml:"model"`
	Prompt PromptSpec `yaml:"prompt"`
	Params llm.Params `yaml:"params"`
	// Tools are the tools the variant's llm and agent steps offer the
	// model, unless a step sets its own.
	Tools ToolsSpec      `yaml:"tools"`
	Vars  map[string]any `yaml:"vars"`
	// Config names a model config of the prompt registry (NAME,
	// NAME@VERSION or NAME@LABEL) whose model and params are the
	// variant's defaults; ConfigResolved is what it resolved to.
	Config         string      `yaml:"config"`
	ConfigResolved *ConfigInfo `yaml:"-"`
}

// ConfigInfo identifies a resolved model config of the registry.
type ConfigInfo struct {
	Ref, Name, Version, Label, Hash, File string
}

// PromptSpec is a prompt: an inline template (one user message) or a list
// of chat messages with roles, each a template.
type PromptSpec struct {
	Messages []llm.Message
	// Inline is true when the prompt was written as a single string (or
	// read from a text file).
	Inline bool

	// Source says where the prompt came from. For a registry prompt, Ref
	// is the reference as written (solve@production), Name, Version and
	// Label what it resolved to (Label empty unless named by a label),
	// Hash the version's content hash, File the registry file, and Config
	// the version's model config (nil when none; ConfigRef names it when
	// it is a registry config). For a prompt file, File is its path as
	// written.
	Source             PromptSource
	Ref, Name, Version string
	Label, Hash, File  string
	Config             *prompts.Config
	ConfigRef          string
}

// IsZero reports whether no prompt was given.
func (p PromptSpec) IsZero() bool { return len(p.Messages) == 0 }

func (p *PromptSpec) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.MappingNode && valueNode(n, historyRole) != nil {
		// {messages: example.FIELD}: the example's chat history.
		msgs, err := d.decodeMessages(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}}, path)
		if err != nil {
			return err
		}
		p.Messages = msgs
		return nil
	}
	if ok, err := d.resolvePrompt(p, n, path); ok || err != nil {
		return err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		p.Messages = []llm.Message{{Role: "user", Content: n.Value}}
		p.Inline = true
		return nil
	case yaml.SequenceNode:
		msgs, err := d.decodeMessages(n, path)
		if err != nil {
			return err
		}
		p.Messages = msgs
		return nil
	}
	return d.errf(n, path, "expected a template string or a list of messages, got %s", describe(n))
}

// StepSpec is one chain step. Config holds the kind-specific options
// (*LLMStep, *TemplateStep, *ExtractStep, *HTTPStep, *ExecStep or
// *CustomStep).
type StepSpec struct {
	Name   string
	Kind   string
	Config any
	Line   int
}

type stepCommon struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
}

func (s *StepSpec) decodeNode(d *decoder, n *yaml.Node, path string) error {
	var c stepCommon
	kind := mappingValue(n, "kind")
	var cfg any
	switch kind {
	case "llm":
		cfg = &LLMStep{}
	case "template":
		cfg = &TemplateStep{}
	case "extract":
		cfg = &ExtractStep{}
	case "http":
		cfg = &HTTPStep{}
	case "exec":
		cfg = &ExecStep{}
	case "agent":
		cfg = &AgentStep{}
	case "":
		if n.Kind == yaml.MappingNode {
			return d.errf(n, yamlstrict.Join(path, "kind"), "missing (one of %s)", strings.Join(d.stepKinds(), ", "))
		}
	default:
		if _, ok := d.custom[kind]; !ok {
			return d.errf(valueNode(n, "kind"), yamlstrict.Join(path, "kind"), "unknown step kind %q (one of %s)", kind, strings.Join(d.stepKinds(), ", "))
		}
		cfg = &CustomStep{}
	}
	if err := d.decodeSplit(n, path, &c, cfg); err != nil {
		return err
	}
	if c.Name == "" {
		return d.errf(n, yamlstrict.Join(path, "name"), "missing")
	}
	s.Name, s.Kind, s.Config, s.Line = c.Name, c.Kind, cfg, n.Line
	return nil
}

// LLMStep is a chat completion. It uses the variant's model, prompt and
// params unless it sets its own.
type LLMStep struct {
	Model  string     `yaml:"model"`
	Prompt PromptSpec `yaml:"prompt"`
	Params llm.Params `yaml:"params"`
	// Tools are offered to the model (default: the variant's). The
	// calls its reply asks for are the step's tool_calls; none is made.
	Tools ToolsSpec `yaml:"tools"`
	// Simulate holds a conversation: a model plays the user.
	Simulate *SimulateSpec `yaml:"simulate"`
}

// SimulateSpec makes an llm step a conversation: after each reply, a model
// plays the user — from a persona and a goal — and writes the next user
// message, for Turns replies or until it writes Stop.
type SimulateSpec struct {
	// Model plays the user (default: the step's model).
	Model string `yaml:"model"`
	// Turns is how many replies the assistant gives at most (default 3).
	Turns int `yaml:"turns"`
	// Persona and Goal are templates describing the user.
	Persona string `yaml:"persona"`
	Goal    string `yaml:"goal"`
	// Stop is what the simulated user writes when its goal is met
	// (default "[DONE]"): the conversation ends there.
	Stop string `yaml:"stop"`
}

// AgentStep runs a model with tools in a loop: each reply's tool calls
// are executed by their handlers and their results sent back, until the
// model answers without calling a tool or MaxTurns model calls were
// made (an error). Model, Prompt, Params and Tools default to the
// variant's.
type AgentStep struct {
	Model  string     `yaml:"model"`
	Prompt PromptSpec `yaml:"prompt"`
	Params llm.Params `yaml:"params"`
	Tools  ToolsSpec  `yaml:"tools"`
	// MaxTurns bounds the model calls (default 10).
	MaxTurns int `yaml:"max_turns"`
	// Handlers execute the tools, by tool name; "*" handles every tool
	// without one of its own.
	Handlers map[string]HandlerSpec `yaml:"handlers"`
	// OnToolError is "fail" (default: a failing tool fails the example)
	// or "report" (its error goes back to the model as the tool's result).
	OnToolError string `yaml:"on_tool_error"`
}

// HandlerSpec executes a tool: exactly one of From (canned results from
// the dataset), HTTP, Exec or Func.
type HandlerSpec struct {
	// From is "example.FIELD": the example's field holds, by tool name,
	// the tool's result, or a list of results taken one per call in
	// order (a hermetic replay of recorded tool results).
	From string `yaml:"from"`
	// HTTP POSTs the call (JSON {name, id, arguments, example, variant})
	// to the application; its reply (or Output's part of it) is the
	// result.
	HTTP *HTTPStep `yaml:"http"`
	// Exec runs a program with the call as JSON on its standard input;
	// its output is the result.
	Exec *ExecStep `yaml:"exec"`
	// Func names a Go function given in LoadOptions.Tools.
	Func string `yaml:"func"`
}

// TemplateStep renders a template; its output is the rendered text.
type TemplateStep struct {
	Template string `yaml:"template"`
}

// ExtractStep extracts a value from text: a regular expression's group, or
// a JSONPath into JSON.
type ExtractStep struct {
	// From is a template for the text to extract from; default: the
	// previous step's output.
	From string `yaml:"from"`
	// Regex is an RE2 pattern; the output is Group (default 1, or 0 when
	// the pattern has no group) of its last match.
	Regex string `yaml:"regex"`
	Group *int   `yaml:"group"`
	// First takes the first match instead of the last.
	First bool `yaml:"first"`
	// JSONPath is a JSONPath expression ("$.answer", "$.items[0].text")
	// into the text parsed as JSON.
	JSONPath string `yaml:"json_path"`
	// Required makes a missing match a step error; otherwise the output is
	// empty and the judges decide.
	Required bool `yaml:"required"`
}

// HTTPStep POSTs a JSON body to the user's application and takes a field of
// its JSON reply.
type HTTPStep struct {
	URL    string `yaml:"url"`
	Method string `yaml:"method"`
	// Headers are sent with every request. Values may reference
	// environment variables as ${NAME}; they are never recorded.
	Headers map[string]string `yaml:"headers"`
	// Body is a template rendering the JSON request body; default: a JSON
	// object with the example, the variant and earlier steps' outputs.
	Body string `yaml:"body"`
	// Output is a JSONPath into the JSON reply; default: the whole body.
	Output  string        `yaml:"output"`
	Timeout time.Duration `yaml:"timeout"`
}

// ExecStep runs a program (argv, no shell) with JSON on stdin, and takes a
// field of the JSON it prints on stdout.
type ExecStep struct {
	Command []string `yaml:"command"`
	// Input is a template rendering the JSON sent on stdin; default: a JSON
	// object with the example, the variant and earlier steps' outputs.
	Input string `yaml:"input"`
	// Output is a JSONPath into the program's JSON stdout; default "$.output".
	Output  string            `yaml:"output"`
	Timeout time.Duration     `yaml:"timeout"`
	Env     map[string]string `yaml:"env"`
	Dir     string            `yaml:"dir"`
}

// CustomStep configures a step kind registered by a Go program.
type CustomStep struct {
	With map[string]any `yaml:"with"`
}

// JudgeSpec is one judge: a type from the catalog and its options.
type JudgeSpec struct {
	Name string
	Type string
	// Expected is a template over the example, the variant, the steps and
	// the output; the judge receives its rendering.
	Expected string
	// Config is the type's configuration struct, filled from the spec.
	Config any
	Line   int
	// Repeats runs the judge this many times per output (judge noise made
	// visible); Aggregate combines them: majority (default) or mean.
	Repeats   int
	Aggregate string
	// PerTurn scores every assistant turn (see judges.PerTurn), combined
	// by TurnAggregate.
	PerTurn       bool
	TurnAggregate string
	// Scale overrides the judge type's level of measurement (binary,
	// ordinal or continuous), which chooses the paired test of a
	// comparison; "" keeps the type's own.
	Scale judges.Scale

	// Prompt is the judge's prompt when the spec named a registry prompt
	// or a prompt file for it (nil when inline or the type's default).
	Prompt *PromptSpec

	// node is the judge's mapping in the spec, for positions in errors.
	node *yaml.Node
}

type judgeCommon struct {
	Name      string `yaml:"name"`
	Type      string `yaml:"type"`
	Expected  string `yaml:"expected"`
	Repeats   int    `yaml:"repeats"`
	Aggregate string `yaml:"aggregate"`
	Scale     string `yaml:"scale"`
	// PerTurn scores every assistant turn of a simulated conversation,
	// combined by TurnAggregate (mean, min or all).
	PerTurn       bool   `yaml:"per_turn"`
	TurnAggregate string `yaml:"turn_aggregate"`
}

func (j *JudgeSpec) decodeNode(d *decoder, n *yaml.Node, path string) error {
	typ := mappingValue(n, "type")
	var cfg any
	if n.Kind == yaml.MappingNode {
		if typ == "" {
			return d.errf(n, yamlstrict.Join(path, "type"), "missing (one of %s)", strings.Join(d.catalog.Types(), ", "))
		}
		f, err := d.catalog.Lookup(typ)
		if err != nil {
			return d.errf(valueNode(n, "type"), yamlstrict.Join(path, "type"), "%v", err)
		}
		if f.NewConfig != nil {
			cfg = f.NewConfig()
		}
	}
	if n.Kind == yaml.MappingNode {
		p, err := d.judgePrompt(n, path)
		if err != nil {
			return err
		}
		j.Prompt = p
	}
	var c judgeCommon
	if err := d.decodeSplit(n, path, &c, cfg); err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = c.Type
	}
	if c.Repeats < 0 || c.Repeats > 100 {
		return d.errf(valueNode(n, "repeats"), yamlstrict.Join(path, "repeats"), "must be between 1 and 100, got %d", c.Repeats)
	}
	if c.Aggregate != "" && !slices.Contains(judgeAggregates, c.Aggregate) {
		return d.errf(valueNode(n, "aggregate"), yamlstrict.Join(path, "aggregate"), "unknown aggregate %q (majority or mean)", c.Aggregate)
	}
	scale, err := judges.ParseScale(c.Scale)
	if err != nil {
		return d.errf(valueNode(n, "scale"), yamlstrict.Join(path, "scale"), "%v", err)
	}
	j.Scale = scale
	j.Name, j.Type, j.Expected, j.Config, j.Line = c.Name, c.Type, c.Expected, cfg, n.Line
	j.Repeats, j.Aggregate = c.Repeats, c.Aggregate
	j.PerTurn, j.TurnAggregate = c.PerTurn, c.TurnAggregate
	if c.TurnAggregate != "" && !slices.Contains([]string{judges.TurnMean, judges.TurnMin, judges.TurnAll}, c.TurnAggregate) {
		return d.errf(valueNode(n, "turn_aggregate"), yamlstrict.Join(path, "turn_aggregate"), "unknown aggregate %q (mean, min or all)", c.TurnAggregate)
	}
	j.node = n
	return nil
}

// ScoreSpec maps the fields of a file of existing outputs to results, for
// offline batch scoring. Each value is a field path ("answer",
// "model_a.solution") or a template ("{{.example.answer}}").
type ScoreSpec struct {
	// Output is the output field when the file holds one variant, which is
	// then named "output" (or Name).
	Output string `yaml:"output"`
	Name   string `yaml:"name"`
	// Variants name several output fields of the same row as several
	// variants of the same example.
	Variants []ScoreVariant `yaml:"variants"`
	// Optional run facts of each row, for the latency, ttft, cost and
	// tokens judges and the summary.
	LatencyMS        string `yaml:"latency_ms"`
	PromptTokens     string `yaml:"prompt_tokens"`
	CompletionTokens string `yaml:"completion_tokens"`
	CostUSD          string `yaml:"cost_usd"`
	TTFTMS           string `yaml:"ttft_ms"`
}

// ScoreVariant is one output field scored as one variant. Its facts, when
// set, override the ScoreSpec's.
type ScoreVariant struct {
	Name             string `yaml:"name"`
	Output           string `yaml:"output"`
	LatencyMS        string `yaml:"latency_ms"`
	PromptTokens     string `yaml:"prompt_tokens"`
	CompletionTokens string `yaml:"completion_tokens"`
	CostUSD          string `yaml:"cost_usd"`
	TTFTMS           string `yaml:"ttft_ms"`
}

// GateSpec is a quality gate on one judge's results.
type GateSpec struct {
	Judge        string   `yaml:"judge"`
	MinPassRate  *float64 `yaml:"min_pass_rate"`
	MinMean      *float64 `yaml:"min_mean"`
	MaxErrorRate *float64 `yaml:"max_error_rate"`
	MaxDrop      *float64 `yaml:"max_drop"`
	// Alternative is the alternative of the paired tests this gate reads
	// ("two-sided", "greater" or "less"); empty: the report's.
	Alternative string `yaml:"alternative"`
	// ErrorsAs is what an errored result counts as for this gate ("skip"
	// or "fail"); empty: the report's.
	ErrorsAs        string   `yaml:"errors_as"`
	MaxCost         *float64 `yaml:"max_cost"`
	MaxP95LatencyMS *float64 `yaml:"max_p95_latency_ms"`
}

// LoadOptions are the extension points of spec loading.
type LoadOptions struct {
	// Judges is the judge catalog; nil means judges.Builtin().
	Judges judges.Catalog
	// Steps are step kinds implemented by Go functions.
	Steps map[string]StepFunc
	// Pinned, when set, resolves the spec's registry prompts, prompt files
	// and registry configs from a stored run's pins (see PinsOf) rather
	// than from the files as they are now.
	Pinned *Pins
	// Tools are tool handlers implemented by Go functions, named by an
	// agent step's handlers ({func: NAME}).
	Tools map[string]ToolFunc
}

// LoadSpec reads and validates the spec at path.
func LoadSpec(path string, opts LoadOptions) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading spec: %w", err)
	}
	return ParseSpec(data, path, opts)
}

// ParseSpec parses and validates spec text; path names the file in errors
// and anchors relative paths.
func ParseSpec(data []byte, path string, opts LoadOptions) (*Spec, error) {
	cat := opts.Judges
	if cat == nil {
		cat = judges.Builtin()
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, &FieldError{File: path, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: path, dir: filepath.Dir(abs), catalog: cat, custom: opts.Steps, pins: opts.Pinned}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) > 0 {
		top = top.Content[0]
	}
	d.promptsDir = registryDir(d.dir, top)
	s := &Spec{}
	if err := d.decode(&root, s, ""); err != nil {
		return nil, err
	}
	s.Path = path
	s.catalog = cat
	s.promptsDir = d.promptsDir
	s.Dir = filepath.Dir(abs)
	s.Source = string(data)
	sum := sha256.Sum256(data)
	s.Hash = "sha256:" + hex.EncodeToString(sum[:])
	if err := s.validate(d, &root); err != nil {
		return nil, err
	}
	// A stored spec read again (pinned) needs no prices: its costs are in
	// its results, and the file may be gone.
	if s.PricesFile != "" && opts.Pinned == nil {
		path := s.PricesFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.Dir, path)
		}
		file, err := llm.ReadPricesFile(path)
		if err != nil {
			return nil, d.errf(valueNode(top, "prices_file"), "prices_file", "%v", err)
		}
		if s.Prices == nil {
			s.Prices = map[string]llm.Price{}
		}
		for k, v := range file {
			if _, ok := s.Prices[k]; !ok {
				s.Prices[k] = v
			}
		}
	}
	s.toolFuncs = opts.Tools
	if opts.Pinned != nil {
		s.pins, s.pinned = *opts.Pinned, true
	} else {
		s.pins = Pins{Prompts: d.prompts, Configs: d.configs}
	}
	return s, nil
}

// The closed sets of values the spec accepts (besides empty, the
// default), shared with its JSON Schema.
var (
	messageRoles     = []string{"system", "user", "assistant", "developer"}
	datasetFormats   = []string{"jsonl", "csv", "parquet"}
	providerTypes    = []string{"openai"}
	gateAlternatives = []string{"two-sided", "greater", "less"}
	gateErrorsAs     = []string{"skip", "fail"}
	judgeAggregates  = []string{"majority", "mean"}
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (s *Spec) validate(d *decoder, root *yaml.Node) error {
	top := root
	if top.Kind == yaml.DocumentNode && len(top.Content) > 0 {
		top = top.Content[0]
	}
	at := func(key string) *yaml.Node {
		if n := valueNode(top, key); n != nil {
			return n
		}
		return top
	}
	if s.Dataset.Path == "" && s.Score == nil {
		return d.errf(at("dataset"), "dataset.path", "missing: the dataset file (JSONL, CSV or Parquet), relative to the spec")
	}
	if s.Dataset.Format != "" && !slices.Contains(datasetFormats, s.Dataset.Format) {
		return d.errf(at("dataset"), "dataset.format", "unknown format %q (jsonl, csv or parquet)", s.Dataset.Format)
	}
	if s.Dataset.Limit < 0 || s.Dataset.Sample < 0 {
		return d.errf(at("dataset"), "dataset", "limit and sample must not be negative")
	}
	if s.Concurrency < 0 {
		return d.errf(at("concurrency"), "concurrency", "must not be negative")
	}
	if s.Repeat < 0 {
		return d.errf(at("repeat"), "repeat", "must not be negative")
	}
	for name, p := range s.Providers {
		if name == "offline" {
			return d.errf(at("providers"), "providers."+name, "the offline provider is built in and cannot be redefined")
		}
		if p.BaseURL == "" {
			return d.errf(at("providers"), "providers."+name+".base_url", "missing")
		}
		if p.Type != "" && !slices.Contains(providerTypes, p.Type) {
			return d.errf(at("providers"), "providers."+name+".type", "unknown type %q (openai)", p.Type)
		}
	}
	if len(s.Variants) == 0 && s.Score == nil {
		return d.errf(at("variants"), "variants", "missing: at least one variant (or a score section for gavel score)")
	}
	if sc := s.Score; sc != nil {
		if (sc.Output == "") == (len(sc.Variants) == 0) {
			return d.errf(at("score"), "score", "set exactly one of output (one variant) or variants (several output fields)")
		}
		names := map[string]bool{}
		for i, v := range sc.Variants {
			p := fmt.Sprintf("score.variants[%d]", i)
			if v.Name == "" || v.Output == "" {
				return d.errf(at("score"), p, "needs a name and an output")
			}
			if !namePattern.MatchString(v.Name) {
				return d.errf(at("score"), p+".name", "%q: use letters, digits, '.', '_' and '-'", v.Name)
			}
			if names[v.Name] {
				return d.errf(at("score"), p+".name", "duplicate variant %q", v.Name)
			}
			names[v.Name] = true
		}
	}
	seen := map[string]int{}
	vnode := valueNode(top, "variants")
	if err := s.resolveVariantConfigs(d, vnode); err != nil {
		return err
	}
	for i, v := range s.Variants {
		n := seqItem(vnode, i)
		p := fmt.Sprintf("variants[%d]", i)
		if v.Name == "" {
			return d.errf(n, p+".name", "missing")
		}
		if !namePattern.MatchString(v.Name) {
			return d.errf(n, p+".name", "%q: use letters, digits, '.', '_' and '-'", v.Name)
		}
		if j, dup := seen[v.Name]; dup {
			return d.errf(n, p+".name", "duplicate variant %q (also variants[%d])", v.Name, j)
		}
		seen[v.Name] = i
	}
	if len(s.Chain) == 0 {
		// The default chain is one llm step using the variant.
		s.Chain = []StepSpec{{Name: "llm", Kind: "llm", Config: &LLMStep{}}}
	}
	steps := map[string]int{}
	cnode := valueNode(top, "chain")
	for i, st := range s.Chain {
		n := seqItem(cnode, i)
		p := fmt.Sprintf("chain[%d]", i)
		if j, dup := steps[st.Name]; dup {
			return d.errf(n, p+".name", "duplicate step %q (also chain[%d])", st.Name, j)
		}
		steps[st.Name] = i
		if err := validateStep(d, n, p, st, s, i); err != nil {
			return err
		}
	}
	jnames := map[string]int{}
	jnode := valueNode(top, "judges")
	for i, j := range s.Judges {
		n := seqItem(jnode, i)
		p := fmt.Sprintf("judges[%d]", i)
		if k, dup := jnames[j.Name]; dup {
			return d.errf(n, p+".name", "duplicate judge %q (also judges[%d])", j.Name, k)
		}
		jnames[j.Name] = i
	}
	gnode := valueNode(top, "gates")
	for i, g := range s.Gates {
		n := seqItem(gnode, i)
		p := fmt.Sprintf("gates[%d]", i)
		if g.Judge != "" {
			if _, ok := jnames[g.Judge]; !ok {
				return d.errf(n, p+".judge", "no judge named %q", g.Judge)
			}
		} else if g.MinPassRate != nil || g.MinMean != nil {
			return d.errf(n, p+".judge", "missing: min_pass_rate and min_mean are thresholds of one judge")
		}
		if g.Alternative != "" && !slices.Contains(gateAlternatives, g.Alternative) {
			return d.errf(n, p+".alternative", "%q: want two-sided, greater or less", g.Alternative)
		}
		if g.ErrorsAs != "" && !slices.Contains(gateErrorsAs, g.ErrorsAs) {
			return d.errf(n, p+".errors_as", "%q: want skip or fail", g.ErrorsAs)
		}
	}
	return s.checkTemplates(d, top)
}

// checkTemplates parses every template of the spec, so that a template
// that does not parse is an error at its file position.
func (s *Spec) checkTemplates(d *decoder, top *yaml.Node) error {
	src := s.Source
	if err := d.checkTemplate(src, valueNode(valueNode(top, "dataset"), "expected"), "dataset.expected"); err != nil {
		return err
	}
	vnode := valueNode(top, "variants")
	for i := range s.Variants {
		if err := d.checkPrompt(src, valueNode(seqItem(vnode, i), "prompt"), fmt.Sprintf("variants[%d].prompt", i)); err != nil {
			return err
		}
	}
	cnode := valueNode(top, "chain")
	for i, st := range s.Chain {
		n := seqItem(cnode, i)
		if n == cnode {
			break // the default chain
		}
		p := fmt.Sprintf("chain[%d]", i)
		key := map[string]string{"template": "template", "extract": "from", "http": "body", "exec": "input"}[st.Kind]
		var err error
		if st.Kind == "llm" {
			err = d.checkPrompt(src, valueNode(n, "prompt"), p+".prompt")
		} else if key != "" {
			err = d.checkTemplate(src, valueNode(n, key), p+"."+key)
		}
		if err != nil {
			return err
		}
	}
	jnode := valueNode(top, "judges")
	for i := range s.Judges {
		if err := d.checkTemplate(src, valueNode(seqItem(jnode, i), "expected"), fmt.Sprintf("judges[%d].expected", i)); err != nil {
			return err
		}
	}
	facts := []string{"output", "latency_ms", "prompt_tokens", "completion_tokens", "cost_usd", "ttft_ms"}
	snode := valueNode(top, "score")
	for _, k := range facts {
		if err := d.checkTemplate(src, valueNode(snode, k), "score."+k); err != nil {
			return err
		}
	}
	if sv := valueNode(snode, "variants"); sv != nil && sv.Kind == yaml.SequenceNode {
		for i, n := range sv.Content {
			for _, k := range facts {
				if err := d.checkTemplate(src, valueNode(n, k), fmt.Sprintf("score.variants[%d].%s", i, k)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func validateStep(d *decoder, n *yaml.Node, p string, st StepSpec, s *Spec, i int) error {
	switch c := st.Config.(type) {
	case *LLMStep:
		for vi, v := range s.Variants {
			if c.Model == "" && v.Model == "" {
				return d.errf(n, p+".model", "no model: set it on the step or on variants[%d] (%s)", vi, v.Name)
			}
			if c.Prompt.IsZero() && v.Prompt.IsZero() {
				return d.errf(n, p+".prompt", "no prompt: set it on the step or on variants[%d] (%s)", vi, v.Name)
			}
		}
	case *TemplateStep:
		if c.Template == "" {
			return d.errf(n, p+".template", "missing")
		}
	case *ExtractStep:
		if (c.Regex == "") == (c.JSONPath == "") {
			return d.errf(n, p, "set exactly one of regex or json_path")
		}
		if c.From == "" && i == 0 {
			return d.errf(n, p+".from", "the first step has no previous output: set from")
		}
	case *HTTPStep:
		if c.URL == "" {
			return d.errf(n, p+".url", "missing")
		}
		if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
			return d.errf(n, p+".url", "%q: must start with http:// or https://", c.URL)
		}
	case *ExecStep:
		if len(c.Command) == 0 {
			return d.errf(n, p+".command", "missing: the program and its arguments, as a list")
		}
	}
	return nil
}

// mappingValue returns the scalar value of key in mapping n, or "".
func mappingValue(n *yaml.Node, key string) string {
	if v := valueNode(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// valueNode returns the value node of key in mapping n, or nil.
func valueNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItem(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return n
	}
	return n.Content[i]
}
