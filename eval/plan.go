package eval

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ohler55/ojg/jp"
	"go.yaml.in/yaml/v3"

	"github.com/gavel-eval/gavel/eval/results"
	"github.com/gavel-eval/gavel/internal/redact"
	"github.com/gavel-eval/gavel/judges"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
)

// variantPlan is a variant compiled for execution.
type variantPlan struct {
	index    int
	name     string
	vars     map[string]any
	data     map[string]any // the template's .variant
	steps    []step
	manifest results.Variant
	// The prompt columns of the variant's results (nil: null).
	promptName, promptVersion, promptLabel, promptHash *string
	// facts are templates giving a scored file's run facts (latency_ms,
	// prompt_tokens, completion_tokens, cost_usd, ttft_ms).
	facts map[string]*prompts.Template
	// tools are the tools the variant's steps offer, by first definition
	// of each name (what judges check calls against); validator checks
	// the calls (nil without tools).
	tools     []llm.Tool
	validator *judges.ToolValidator
}

// judgePlan is a judge compiled for execution.
type judgePlan struct {
	name     string
	typ      string
	hash     string
	expected *prompts.Template
	judge    judges.Judge
	manifest results.Judge
	// pair is set for pairwise judges, which compare variants and run
	// after them (pairs.go).
	pair judges.PairJudge
	// corpus is true for judges with a corpus-level metric.
	corpus bool
	// llm is true for judges that call models.
	llm bool
}

// planEnv is what compiling needs from the outside world.
type planEnv struct {
	model  llm.Model
	check  func(model string) error
	getenv func(string) string
	client *http.Client
	custom map[string]StepFunc
	tools  map[string]ToolFunc
}

// compileVariant compiles the chain for one variant.
func compileVariant(s *Spec, vi int, env planEnv) (*variantPlan, error) {
	v := s.Variants[vi]
	vp := &variantPlan{
		index: vi,
		name:  v.Name,
		vars:  v.Vars,
		data:  map[string]any{"name": v.Name, "model": v.Model, "vars": orEmpty(v.Vars)},
	}
	params, _ := json.Marshal(v.Params)
	vp.manifest = results.Variant{Name: v.Name, Model: v.Model, Vars: v.Vars}
	if string(params) != "{}" {
		vp.manifest.Params = params
	}
	if !v.Prompt.IsZero() {
		vp.manifest.Prompt = promptManifest(v.Prompt)
		pm := vp.manifest.Prompt
		vp.promptHash = &pm.Hash
		if pm.Name != "" {
			vp.promptName, vp.promptVersion = &pm.Name, &pm.Version
		}
		if pm.Label != "" {
			vp.promptLabel = &pm.Label
		}
	}
	if c := v.ConfigResolved; c != nil {
		vp.manifest.Config = &results.ConfigRef{Ref: c.Ref, Name: c.Name, Version: c.Version, Label: c.Label, Hash: c.Hash, File: c.File}
	}
	for i, ss := range s.Chain {
		where := fmt.Sprintf("chain[%d] (%s) for variant %s", i, ss.Name, v.Name)
		st, cfg, err := compileStep(s, ss, v, env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		vp.steps = append(vp.steps, st)
		vp.manifest.Steps = append(vp.manifest.Steps, results.Step{Name: ss.Name, Kind: ss.Kind, Config: cfg})
		vp.addTools(stepTools(st))
	}
	if len(vp.tools) > 0 {
		var err error
		if vp.validator, err = newToolValidator(vp.tools); err != nil {
			return nil, fmt.Errorf("variant %s: tools: %w", v.Name, err)
		}
	}
	b, _ := json.Marshal(vp.manifest)
	sum := sha256.Sum256(b)
	vp.manifest.Hash = "sha256:" + hex.EncodeToString(sum[:8])
	return vp, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func promptManifest(p PromptSpec) *results.Prompt {
	out := &results.Prompt{}
	texts := make([]string, 0, 2*len(p.Messages))
	for _, m := range p.Messages {
		content := m.Content
		if len(m.Parts) > 0 {
			// The parts as one text: the text parts, and each image as
			// [image: TEMPLATE].
			var b strings.Builder
			for i, part := range m.Parts {
				if i > 0 {
					b.WriteByte('\n')
				}
				if part.Type == llm.PartImage {
					b.WriteString("[image: " + part.ImageURL + "]")
				} else {
					b.WriteString(part.Text)
				}
			}
			content = b.String()
		}
		out.Messages = append(out.Messages, results.Message{Role: m.Role, Content: content})
		texts = append(texts, m.Role, content)
	}
	out.Hash = prompts.Hash(texts...)
	if p.Source != PromptInline {
		out.Source, out.Ref, out.Name, out.Version, out.Label, out.File = string(p.Source), p.Ref, p.Name, p.Version, p.Label, p.File
		if p.Hash != "" {
			out.Hash = p.Hash
		}
		out.ConfigRef = p.ConfigRef
		if c := p.Config; c != nil {
			out.Config = map[string]any{}
			if c.Model != "" {
				out.Config["model"] = c.Model
			}
			if c.Provider != "" {
				out.Config["provider"] = c.Provider
			}
			if len(c.Params) > 0 {
				out.Config["params"] = c.Params
			}
		}
	}
	return out
}

func parseTemplate(name, text string) (*prompts.Template, error) {
	if text == "" {
		return nil, nil
	}
	return prompts.Parse(name, text)
}

func parsePath(field, expr string) (jp.Expr, error) {
	if expr == "" {
		return nil, nil
	}
	if !strings.HasPrefix(expr, "$") {
		expr = "$." + expr
	}
	x, err := jp.ParseString(expr)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid JSONPath %q: %w", field, expr, err)
	}
	return x, nil
}

// compileStep compiles one step for one variant and returns the resolved
// configuration recorded in the manifest (no secrets).
func compileStep(s *Spec, ss StepSpec, v VariantSpec, env planEnv) (step, map[string]any, error) {
	base := stepBase{stepName: ss.Name}
	switch c := ss.Config.(type) {
	case *LLMStep:
		model, prompt, tools, tmpl, err := modelStep(ss.Name, c.Model, c.Prompt, c.Tools, v, env, s.Dir)
		if err != nil {
			return nil, nil, err
		}
		st := &llmStep{stepBase: base, model: env.model, modelID: model, prompt: tmpl, params: v.Params.Merge(c.Params), tools: tools, keepImages: s.StoreImages}
		cfg := map[string]any{"model": model, "params": st.params, "prompt": promptManifest(prompt)}
		if len(tools) > 0 {
			cfg["tools"] = tools
		}
		if c.Simulate != nil {
			sim, scfg, err := compileSimulate(ss.Name, *c.Simulate, model, env)
			if err != nil {
				return nil, nil, fmt.Errorf("simulate: %w", err)
			}
			st.simulate, cfg["simulate"] = sim, scfg
		}
		return st, cfg, nil
	case *AgentStep:
		model, prompt, tools, tmpl, err := modelStep(ss.Name, c.Model, c.Prompt, c.Tools, v, env, s.Dir)
		if err != nil {
			return nil, nil, err
		}
		st := &agentStep{stepBase: base, model: env.model, modelID: model, prompt: tmpl, params: v.Params.Merge(c.Params),
			tools: tools, maxTurns: c.MaxTurns, handlers: map[string]toolHandler{}, keepImages: s.StoreImages}
		if st.maxTurns == 0 {
			st.maxTurns = DefaultMaxTurns
		}
		if st.maxTurns < 0 {
			return nil, nil, fmt.Errorf("max_turns %d: want at least 1", c.MaxTurns)
		}
		switch c.OnToolError {
		case "", "fail":
		case "report":
			st.reportError = true
		default:
			return nil, nil, fmt.Errorf("on_tool_error %q: want fail or report", c.OnToolError)
		}
		if len(tools) == 0 {
			return nil, nil, errors.New("tools: an agent step needs tools (its own or the variant's)")
		}
		handlers := map[string]any{}
		for name, h := range c.Handlers {
			if name != "*" && !slices.ContainsFunc(tools, func(t llm.Tool) bool { return t.Name == name }) {
				return nil, nil, fmt.Errorf("handlers.%s: no tool of that name (tools: %s)", name, strings.Join(toolNames(tools), ", "))
			}
			th, desc, err := compileHandler(s, ss.Name, name, h, v, env)
			if err != nil {
				return nil, nil, fmt.Errorf("handlers.%s: %w", name, err)
			}
			st.handlers[name] = th
			handlers[name] = desc
		}
		if st.handlers["*"] == nil {
			for _, t := range tools {
				if st.handlers[t.Name] == nil {
					return nil, nil, fmt.Errorf("handlers: tool %s has no handler (give handlers.%s, or handlers.* for every tool)", t.Name, t.Name)
				}
			}
		}
		return st, map[string]any{"model": model, "params": st.params, "prompt": promptManifest(prompt), "tools": tools,
			"max_turns": st.maxTurns, "handlers": handlers, "on_tool_error": cmp.Or(c.OnToolError, "fail")}, nil
	case *TemplateStep:
		t, err := prompts.Parse(ss.Name+" template", c.Template)
		if err != nil {
			return nil, nil, err
		}
		return &templateStep{stepBase: base, t: t}, map[string]any{"template": c.Template}, nil
	case *ExtractStep:
		st := &extractStep{stepBase: base, first: c.First, required: c.Required}
		cfg := map[string]any{"required": c.Required}
		var err error
		if st.from, err = parseTemplate(ss.Name+" from", c.From); err != nil {
			return nil, nil, err
		}
		if c.From != "" {
			cfg["from"] = c.From
		}
		if c.Regex != "" {
			if st.re, err = regexp.Compile(c.Regex); err != nil {
				return nil, nil, fmt.Errorf("regex: %w", err)
			}
			st.group = 1
			if st.re.NumSubexp() == 0 {
				st.group = 0
			}
			if c.Group != nil {
				st.group = *c.Group
			}
			if st.group < 0 || st.group > st.re.NumSubexp() {
				return nil, nil, fmt.Errorf("group: %d out of range (the regex has %d groups)", st.group, st.re.NumSubexp())
			}
			cfg["regex"], cfg["group"], cfg["first"] = c.Regex, st.group, c.First
		} else {
			if st.path, err = parsePath("json_path", c.JSONPath); err != nil {
				return nil, nil, err
			}
			cfg["json_path"] = c.JSONPath
		}
		return st, cfg, nil
	case *HTTPStep:
		st := &httpStep{stepBase: base, url: c.URL, method: strings.ToUpper(c.Method), headers: c.Headers,
			timeout: c.Timeout, client: env.client, getenv: env.getenv}
		if st.method == "" {
			st.method = http.MethodPost
		}
		if st.timeout <= 0 {
			st.timeout = DefaultStepTimeout
		}
		var err error
		if st.body, err = parseTemplate(ss.Name+" body", c.Body); err != nil {
			return nil, nil, err
		}
		if st.output, err = parsePath("output", c.Output); err != nil {
			return nil, nil, err
		}
		headerNames := make([]string, 0, len(c.Headers))
		for k := range c.Headers {
			headerNames = append(headerNames, k)
		}
		sort.Strings(headerNames)
		return st, map[string]any{"url": redact.URL(c.URL), "method": st.method, "headers": headerNames, "body": c.Body,
			"output": c.Output, "timeout": st.timeout.String()}, nil
	case *ExecStep:
		st := &execStep{stepBase: base, argv: c.Command, timeout: c.Timeout, dir: resolvePath(s.Dir, c.Dir)}
		if st.dir == "" {
			st.dir = s.Dir
		}
		if err := lookProgram(c.Command[0], st.dir); err != nil {
			return nil, nil, fmt.Errorf("command[0]: %w", err)
		}
		if st.timeout <= 0 {
			st.timeout = DefaultStepTimeout
		}
		var err error
		if st.input, err = parseTemplate(ss.Name+" input", c.Input); err != nil {
			return nil, nil, err
		}
		out := c.Output
		if out == "" {
			out = "$.output"
		}
		if st.output, err = parsePath("output", out); err != nil {
			return nil, nil, err
		}
		// The program gets a minimal environment: PATH and HOME, plus the
		// variables the spec names (values may reference ${VAR}).
		for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
			if val := env.getenv(k); val != "" {
				st.env = append(st.env, k+"="+val)
			}
		}
		envNames := make([]string, 0, len(c.Env))
		lookup := func(name string) string {
			v := env.getenv(name)
			st.secrets = append(st.secrets, v)
			return v
		}
		for k, val := range c.Env {
			st.env = append(st.env, k+"="+expandEnv(val, lookup))
			envNames = append(envNames, k)
		}
		sort.Strings(envNames)
		return st, map[string]any{"command": c.Command, "input": c.Input, "output": out,
			"timeout": st.timeout.String(), "env": envNames}, nil
	case *CustomStep:
		fn := env.custom[ss.Kind]
		if fn == nil {
			return nil, nil, fmt.Errorf("no Go function registered for step kind %q", ss.Kind)
		}
		return &customStep{stepBase: base, fn: fn, with: c.With}, map[string]any{"with": c.With}, nil
	}
	return nil, nil, fmt.Errorf("unsupported step kind %q", ss.Kind)
}

// lookProgram checks that an exec step's program exists and is executable,
// found as the step will run it: a path with a separator relative to the
// step's directory, a bare name on PATH.
// modelStep resolves an llm or agent step's model, prompt and tools (the
// variant's unless the step sets its own) and parses its prompt.
func modelStep(name, model string, prompt PromptSpec, tools ToolsSpec, v VariantSpec, env planEnv, dir string) (string, PromptSpec, []llm.Tool, *promptTmpl, error) {
	if model == "" {
		model = v.Model
	}
	if err := env.check(model); err != nil {
		return "", prompt, nil, nil, fmt.Errorf("model: %w", err)
	}
	if prompt.IsZero() {
		prompt = v.Prompt
	}
	if tools.IsZero() {
		tools = v.Tools
	}
	tmpl, err := compilePrompt(name, prompt, dir)
	if err != nil {
		return "", prompt, nil, nil, err
	}
	return model, prompt, tools.Tools, tmpl, nil
}

// compileHandler compiles the handler of tool name in an agent step.
func compileHandler(s *Spec, step, name string, h HandlerSpec, v VariantSpec, env planEnv) (toolHandler, any, error) {
	set := 0
	for _, ok := range []bool{h.From != "", h.HTTP != nil, h.Exec != nil, h.Func != ""} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, nil, errors.New("give exactly one of from, http, exec or func")
	}
	switch {
	case h.From != "":
		field, ok := strings.CutPrefix(h.From, "example.")
		if !ok || field == "" || strings.Contains(field, ".") {
			return nil, nil, fmt.Errorf("from %q: want example.FIELD", h.From)
		}
		return &cannedHandler{field: field}, map[string]any{"from": h.From}, nil
	case h.Func != "":
		fn := env.tools[h.Func]
		if fn == nil {
			return nil, nil, fmt.Errorf("func %q: no Go function of that name was given (LoadOptions.Tools)", h.Func)
		}
		return &funcHandler{name: h.Func, fn: fn}, map[string]any{"func": h.Func}, nil
	case h.HTTP != nil:
		if h.HTTP.URL == "" {
			return nil, nil, errors.New("http.url: missing")
		}
		st, cfg, err := compileStep(s, StepSpec{Name: step + " " + name, Kind: "http", Config: h.HTTP}, v, env)
		if err != nil {
			return nil, nil, fmt.Errorf("http: %w", err)
		}
		return &stepHandler{kindName: "http", step: st}, map[string]any{"http": cfg}, nil
	default:
		if len(h.Exec.Command) == 0 || h.Exec.Command[0] == "" {
			return nil, nil, errors.New("exec.command: missing")
		}
		st, cfg, err := compileStep(s, StepSpec{Name: step + " " + name, Kind: "exec", Config: h.Exec}, v, env)
		if err != nil {
			return nil, nil, fmt.Errorf("exec: %w", err)
		}
		return &stepHandler{kindName: "exec", step: st}, map[string]any{"exec": cfg}, nil
	}
}

// stepTools are the tools a step offers.
func stepTools(st step) []llm.Tool {
	switch s := st.(type) {
	case *llmStep:
		return s.tools
	case *agentStep:
		return s.tools
	}
	return nil
}

// addTools adds the tools whose names the variant does not offer yet.
func (vp *variantPlan) addTools(tools []llm.Tool) {
	for _, t := range tools {
		if !slices.ContainsFunc(vp.tools, func(x llm.Tool) bool { return x.Name == t.Name }) {
			vp.tools = append(vp.tools, t)
		}
	}
}

func lookProgram(prog, dir string) error {
	if strings.ContainsRune(prog, '/') || strings.ContainsRune(prog, filepath.Separator) {
		prog = resolvePath(dir, prog)
	}
	if _, err := exec.LookPath(prog); err != nil {
		return err
	}
	return nil
}

// modelChecker is implemented by the model router: it validates a model
// name before any call.
type modelChecker interface {
	Check(model string) error
}

// judgeModels returns the models an LLM judge's recorded configuration
// names: its own, and its members' for a panel.
func judgeModels(cfg map[string]any) []string {
	var out []string
	if m, ok := cfg["model"].(string); ok && m != "" {
		out = append(out, m)
	}
	if members, ok := cfg["judges"].([]any); ok {
		for _, x := range members {
			if mm, ok := x.(map[string]any); ok {
				out = append(out, judgeModels(mm)...)
			}
		}
	}
	return out
}

// checkJudgeModel checks before any call that model can answer an LLM
// judge: the router knows it (provider, key), and it is not one of the
// offline models that cannot judge (offline/judge is the offline judge
// model; echo and calc do not give verdicts, embed does not chat).
func checkJudgeModel(m llm.Model, model string) error {
	mc, ok := m.(modelChecker)
	if !ok {
		return nil // a model given by a Go program: it knows its own names
	}
	if err := mc.Check(model); err != nil {
		return err
	}
	if name, ok := strings.CutPrefix(model, "offline/"); ok && name != "judge" {
		return fmt.Errorf("%s cannot judge: it does not answer judge prompts with verdicts (use offline/judge to judge without a key, or a chat model)", model)
	}
	return nil
}

func expandEnv(s string, getenv func(string) string) string {
	return os.Expand(s, getenv)
}

// compileJudges builds the spec's judges.
func compileJudges(s *Spec, env judges.Env) ([]*judgePlan, error) {
	var out []*judgePlan
	cat := s.catalog
	for i, js := range s.Judges {
		f, err := cat.Lookup(js.Type)
		if err != nil {
			return nil, fmt.Errorf("judges[%d] (%s): %w", i, js.Name, err)
		}
		j, err := f.Build(js.Config, env)
		if err != nil {
			if _, ok := errors.AsType[*prompts.ParseError](err); ok && js.node != nil {
				// A template of the judge's own options: at its position.
				fe := templateError(s.Path, s.Source, js.node, fmt.Sprintf("judges[%d]", i), err)
				fe.(*FieldError).Msg = err.Error()
				return nil, fe
			}
			return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d]", i), Msg: err.Error()}
		}
		judges.NameCalls(j, js.Name)
		scale := js.Scale
		if scale == judges.ScaleUnknown {
			scale = judges.ScaleOf(f, j)
		}
		if js.Repeats > 1 {
			if _, pair := j.(judges.PairJudge); pair {
				return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d].repeats", i), Msg: "pairwise judges cannot be repeated"}
			}
			j = judges.Repeat(j, js.Repeats, js.Aggregate)
		}
		if js.PerTurn {
			if _, pair := j.(judges.PairJudge); pair {
				return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d].per_turn", i), Msg: "pairwise judges cannot score turns"}
			}
			if j, err = judges.PerTurn(j, js.TurnAggregate); err != nil {
				return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d].turn_aggregate", i), Msg: err.Error()}
			}
		}
		jp := &judgePlan{name: js.Name, typ: js.Type, judge: j}
		jp.pair, _ = j.(judges.PairJudge)
		jp.llm = f.Kind == "llm"
		_, jp.corpus = j.(judges.CorpusScorer)
		if jp.expected, err = parseTemplate(js.Name+" expected", js.Expected); err != nil {
			return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d].expected", i), Msg: err.Error()}
		}
		cfg := map[string]any{}
		if js.Config != nil {
			// Round-trip through YAML so the recorded keys are the spec's.
			b, err := yaml.Marshal(js.Config)
			if err == nil {
				_ = yaml.Unmarshal(b, &cfg)
			}
		}
		if js.Expected != "" {
			cfg["expected"] = js.Expected
		}
		if js.Repeats > 1 {
			cfg["repeats"], cfg["aggregate"] = js.Repeats, js.Aggregate
		}
		if js.PerTurn {
			cfg["per_turn"], cfg["turn_aggregate"] = true, cmp.Or(js.TurnAggregate, judges.TurnMean)
		}
		if jp.llm {
			for _, m := range judgeModels(cfg) {
				if err := checkJudgeModel(env.Model, m); err != nil {
					return nil, &FieldError{File: s.Path, Line: js.Line, Path: fmt.Sprintf("judges[%d].model", i), Msg: err.Error()}
				}
			}
		}
		b, _ := json.Marshal(map[string]any{"type": js.Type, "config": cfg})
		sum := sha256.Sum256(b)
		jp.hash = "sha256:" + hex.EncodeToString(sum[:8])
		jp.manifest = results.Judge{Name: js.Name, Type: js.Type, Scale: string(scale), Config: cfg, Hash: jp.hash}
		out = append(out, jp)
	}
	return out, nil
}
