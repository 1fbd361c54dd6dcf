package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ohler55/ojg/jp"

	"github.com/gavel-eval/gavel/internal/redact"
	"github.com/gavel-eval/gavel/llm"
	"github.com/gavel-eval/gavel/prompts"
	"github.com/gavel-eval/gavel/traces"
)

// StepInput is what a step implemented in Go receives.
type StepInput struct {
	// Example holds the example's fields.
	Example map[string]any
	// Variant is the variant's name; Vars its vars.
	Variant string
	Vars    map[string]any
	// Steps holds the outputs of earlier steps by name.
	Steps map[string]string
	// Input is the previous step's output ("" for the first step).
	Input string
	// With is the step's `with` options from the spec.
	With map[string]any
}

// StepFunc implements a chain step kind in Go. Register it in
// LoadOptions.Steps and Options.Steps under the kind name used in the spec.
// The runner records a span around it; the function may start child spans
// with traces.Start on ctx.
type StepFunc func(ctx context.Context, in StepInput) (string, error)

// Default timeouts.
const (
	DefaultCallTimeout = 2 * time.Minute
	DefaultStepTimeout = time.Minute
)

// chainState is the state of one chain execution: the template data and the
// usage accumulated by model calls.
type chainState struct {
	example map[string]any
	variant *variantPlan
	steps   map[string]string
	last    string
	usage   llm.Usage
	cost    float64
	priced  bool
	calls   int
	// now is the runner's clock; cacheHits and cachedCost count the calls
	// the cache answered and what they cost when made; modelMS is, over
	// the model calls, their latency (Response.LatencyMS: the original
	// call's for a hit) less the time the calls took here.
	now        func() time.Time
	cacheHits  int
	cachedCost float64
	modelMS    float64
	// start is when the chain started, on the runner's clock; streamed
	// is set at the first streamed model call, and ttft is then the
	// chain's time to first token (nil when that call had none).
	start    time.Time
	streamed bool
	ttft     *float64
	// stepData is steps as templates see them ({{.steps.NAME.output}}),
	// kept up to date by setStep rather than made for every data call.
	stepData map[string]any
	// toolCalls are the tool calls the chain's models made, in order;
	// cannedUsed counts the canned results taken, by field and tool; call
	// is the call a tool handler step is executing.
	toolCalls  []toolRecord
	cannedUsed map[string]int
	call       *llm.ToolCall
	// turns are the assistant's replies of a simulated conversation.
	turns []string
}

// stepExtra adds facts beside step name's output in the template data
// ({{.steps.NAME.tool_calls}}).
func (s *chainState) stepExtra(name string, extra map[string]any) {
	if s.stepData == nil {
		s.stepData = map[string]any{}
	}
	m, _ := s.stepData[name].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	for k, v := range extra {
		m[k] = v
	}
	s.stepData[name] = m
}

// setStep records the output of step name.
func (s *chainState) setStep(name, out string) {
	s.steps[name] = out
	if s.stepData == nil {
		s.stepData = make(map[string]any, len(s.variant.steps))
	}
	m, _ := s.stepData[name].(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["output"] = out
	s.stepData[name] = m
}

// data returns the template data of the state, with room for the
// "output" that judges' data adds. Its "steps" is the state's own: read
// it, do not change it.
func (s *chainState) data() map[string]any {
	steps := s.stepData
	if steps == nil {
		steps = map[string]any{}
	}
	d := make(map[string]any, 5)
	d["example"] = s.example
	d["variant"] = s.variant.data
	d["steps"] = steps
	d["input"] = s.last
	if s.call != nil {
		d["tool"] = toolPayload(s)
	}
	return d
}

// clock returns the time on the runner's clock.
func (s *chainState) clock() time.Time {
	if s.now == nil {
		return time.Now()
	}
	return s.now()
}

// countCall accounts for a model call that took took here: the result
// counts it at the model's latency (for a cache hit, the original call's),
// without the time the cache took to look it up or store it.
func (s *chainState) countCall(cached bool, latencyMS float64, cost *float64, took time.Duration) {
	if cached {
		s.cacheHits++
		if cost != nil {
			s.cachedCost += *cost
		}
	}
	if latencyMS > 0 {
		s.modelMS += latencyMS - float64(took.Microseconds())/1000
	}
}

// step is one compiled chain step.
type step interface {
	name() string
	kind() traces.Kind
	run(ctx context.Context, st *chainState, span *traces.ActiveSpan) (string, error)
}

type stepBase struct{ stepName string }

func (b stepBase) name() string { return b.stepName }

// llmStep calls a model.
type llmStep struct {
	stepBase
	model      llm.Model
	modelID    string
	prompt     *promptTmpl
	params     llm.Params
	tools      []llm.Tool
	keepImages bool
	simulate   *simulation
}

func (s *llmStep) kind() traces.Kind { return traces.KindLLM }

func (s *llmStep) run(ctx context.Context, st *chainState, _ *traces.ActiveSpan) (string, error) {
	msgs, err := s.prompt.render(st.data(), false)
	if err != nil {
		return "", err
	}
	if s.simulate != nil {
		return s.converse(ctx, st, msgs)
	}
	resp, err := st.chat(ctx, s.model, llm.Request{Name: s.stepName, Model: s.modelID, Messages: msgs, Params: s.params, Tools: s.tools, KeepImages: s.keepImages})
	if err != nil {
		return "", err
	}
	if len(resp.ToolCalls) > 0 {
		st.recordCalls(s.stepName, 1, s.tools, resp.ToolCalls)
		st.stepExtra(s.stepName, map[string]any{"tool_calls": callsData(resp.ToolCalls)})
	} else if len(s.tools) > 0 {
		st.stepExtra(s.stepName, map[string]any{"tool_calls": []any{}})
	}
	return resp.Content, nil
}

// templateStep renders a template.
type templateStep struct {
	stepBase
	t *prompts.Template
}

func (s *templateStep) kind() traces.Kind { return traces.KindTemplate }

func (s *templateStep) run(_ context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	span.SetInput(s.t.Text())
	return s.t.Render(st.data())
}

// extractStep extracts with a regex group or a JSONPath.
type extractStep struct {
	stepBase
	from     *prompts.Template
	re       *regexp.Regexp
	group    int
	first    bool
	path     jp.Expr
	required bool
}

func (s *extractStep) kind() traces.Kind { return traces.KindParser }

func (s *extractStep) run(_ context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	text := st.last
	if s.from != nil {
		var err error
		if text, err = s.from.Render(st.data()); err != nil {
			return "", err
		}
	}
	span.SetInput(text)
	var out string
	var found bool
	if s.re != nil {
		span.SetAttr("regex", s.re.String())
		matches := s.re.FindAllStringSubmatch(text, -1)
		if len(matches) > 0 {
			m := matches[len(matches)-1]
			if s.first {
				m = matches[0]
			}
			out, found = m[s.group], true
		}
	} else {
		span.SetAttr("json_path", s.path.String())
		v, err := decodeJSON(text)
		if err != nil {
			if s.required {
				return "", fmt.Errorf("input is not JSON: %w", err)
			}
		} else if got := s.path.Get(v); len(got) > 0 {
			out, found = jsonText(got[0]), true
		}
	}
	span.SetAttr("matched", found)
	if !found && s.required {
		return "", errors.New("no match")
	}
	return out, nil
}

// httpStep calls the user's application.
type httpStep struct {
	stepBase
	url     string
	method  string
	headers map[string]string
	body    *prompts.Template
	output  jp.Expr
	timeout time.Duration
	client  *http.Client
	getenv  func(string) string
}

func (s *httpStep) kind() traces.Kind { return traces.KindTool }

func (s *httpStep) run(ctx context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	// Header values are never recorded: an app that quotes them back in
	// an error does not get them stored, and one that quotes back a value
	// taken from the environment (or of a header named like a credential)
	// does not get it stored in its output either.
	headers, errSecrets, outSecrets := s.expandHeaders()
	out, err := s.call(ctx, st, span, headers, errSecrets)
	return outSecrets.String(out), redactError(err, errSecrets)
}

// expandHeaders returns the step's headers with ${NAME} expanded, the
// secrets kept out of its errors (every header value as sent and every
// value taken from the environment) and those kept out of its output
// (the values taken from the environment, and the values of headers that
// use one or are named like a credential).
func (s *httpStep) expandHeaders() (map[string]string, *redact.Secrets, *redact.Secrets) {
	headers := make(map[string]string, len(s.headers))
	var all, out []string
	for k, v := range s.headers {
		var fromEnv []string
		x := os.Expand(v, func(name string) string {
			val := s.getenv(name)
			fromEnv = append(fromEnv, val)
			return val
		})
		headers[k] = x
		all = append(all, x)
		all = append(all, fromEnv...)
		out = append(out, fromEnv...)
		if len(fromEnv) > 0 || redact.IsSecretName(k) {
			out = append(out, x)
		}
	}
	return headers, redact.New(all...), redact.New(out...)
}

func (s *httpStep) call(ctx context.Context, st *chainState, span *traces.ActiveSpan, headers map[string]string, sec *redact.Secrets) (string, error) {
	body, err := renderPayload(s.body, st)
	if err != nil {
		return "", err
	}
	span.SetInput(body)
	safeURL := redact.URL(s.url)
	span.SetAttr("url", safeURL)
	span.SetAttr("method", s.method)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, s.method, s.url, strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", s.method, safeURL, redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	// W3C Trace Context: spans the application records (with any
	// OpenTelemetry SDK) continue this run's trace under this step.
	if tp := span.TraceParent(); tp != "" {
		req.Header.Set("traceparent", tp)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", s.method, safeURL, redactURLError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", fmt.Errorf("%s %s: reading reply: %w", s.method, safeURL, err)
	}
	span.SetAttr("status_code", resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%s %s: HTTP %d: %s", s.method, safeURL, resp.StatusCode, sec.Text(string(raw), 500, "…"))
	}
	return selectJSON(raw, s.output, "reply", sec)
}

// execStep runs the user's program.
type execStep struct {
	stepBase
	argv    []string
	input   *prompts.Template
	output  jp.Expr
	timeout time.Duration
	env     []string
	dir     string
	secrets []string // values the spec's env took from the environment
}

func (s *execStep) kind() traces.Kind { return traces.KindTool }

func (s *execStep) run(ctx context.Context, st *chainState, span *traces.ActiveSpan) (string, error) {
	// The values the spec's env took from the environment are kept out of
	// the program's output and errors as they are stored.
	sec := redact.New(s.secrets...)
	out, err := s.call(ctx, st, span, sec)
	return sec.String(out), redactError(err, sec)
}

func (s *execStep) call(ctx context.Context, st *chainState, span *traces.ActiveSpan, sec *redact.Secrets) (string, error) {
	in, err := renderPayload(s.input, st)
	if err != nil {
		return "", err
	}
	span.SetInput(in)
	span.SetAttr("command", s.argv)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
	cmd.Stdin = strings.NewReader(in)
	cmd.Dir = s.dir
	cmd.Env = s.env
	if tp := span.TraceParent(); tp != "" {
		// The environment carrier of W3C Trace Context, as OpenTelemetry
		// SDKs read it.
		cmd.Env = append(append([]string(nil), s.env...), "TRACEPARENT="+tp)
	}
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("%s: timed out after %s", s.argv[0], s.timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return "", fmt.Errorf("%s: %w: %s", s.argv[0], err, sec.Text(msg, 500, "…"))
		}
		return "", fmt.Errorf("%s: %w", s.argv[0], err)
	}
	return selectJSON(stdout.Bytes(), s.output, "stdout", sec)
}

// customStep calls a StepFunc.
type customStep struct {
	stepBase
	fn   StepFunc
	with map[string]any
}

func (s *customStep) kind() traces.Kind { return traces.KindTool }

func (s *customStep) run(ctx context.Context, st *chainState, _ *traces.ActiveSpan) (string, error) {
	steps := make(map[string]string, len(st.steps))
	for k, v := range st.steps {
		steps[k] = v
	}
	return s.fn(ctx, StepInput{
		Example: st.example, Variant: st.variant.name, Vars: st.variant.vars,
		Steps: steps, Input: st.last, With: s.with,
	})
}

// renderPayload renders t, or the default JSON payload when t is nil.
func renderPayload(t *prompts.Template, st *chainState) (string, error) {
	if t != nil {
		return t.Render(st.data())
	}
	if st.call != nil {
		b, err := json.Marshal(toolPayload(st))
		return string(b), err
	}
	b, err := json.Marshal(map[string]any{
		"example": st.example,
		"variant": st.variant.name,
		"vars":    st.variant.vars,
		"steps":   st.steps,
		"input":   st.last,
	})
	return string(b), err
}

// selectJSON parses raw as JSON and returns the value at path as text. A
// nil path returns raw itself. The part of raw quoted in an error is
// redacted (sec, bearer tokens, URL credentials) before it is cut.
func selectJSON(raw []byte, path jp.Expr, what string, sec *redact.Secrets) (string, error) {
	if path == nil {
		return string(raw), nil
	}
	v, err := decodeJSON(string(raw))
	if err != nil {
		return "", fmt.Errorf("%s is not JSON: %w (got %q)", what, err, sec.Text(string(raw), 200, "…"))
	}
	got := path.Get(v)
	if len(got) == 0 {
		return "", fmt.Errorf("%s has nothing at %s (got %s)", what, path.String(), sec.Text(string(raw), 200, "…"))
	}
	return jsonText(got[0]), nil
}

func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// jsonText renders a JSON value as step output: strings as they are,
// anything else as JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// redactError returns err with the secrets in its message, bearer tokens
// and URL credentials replaced by "[redacted]" (secrets shorter than 4
// bytes are left alone: they are not secrets, and replacing them would
// garble the message). err itself is returned when nothing changed.
func redactError(err error, sec *redact.Secrets) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := sec.Text(msg, -1, "")
	if red == msg {
		return err
	}
	return errors.New(red)
}

// redactURLError drops the *url.Error wrapper's repetition of the URL.
func redactURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// resolvePath makes p absolute against dir.
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}
