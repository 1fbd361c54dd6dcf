package judges

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/internal/redact"
)

// DefaultExecTimeout is how long an `exec` judge's program may run when
// its timeout is not set.
const DefaultExecTimeout = 30 * time.Second

// Limits on what an exec judge's program may print.
const (
	execMaxStdout = 1 << 20  // bytes of stdout read; more is an error
	execMaxStderr = 64 << 10 // bytes of stderr kept
	execShowBytes = 1000     // bytes of stderr quoted in an error
)

// ExecConfig holds the options of an `exec` judge.
type ExecConfig struct {
	// Command is the program and its arguments, as a list; no shell is
	// involved. Required. A program path containing a slash is relative
	// to the spec's directory; a bare name is looked up in PATH.
	Command []string `yaml:"command"`
	// Timeout bounds each run of the program (DefaultExecTimeout, 30s,
	// when unset); the program is killed when it passes.
	Timeout time.Duration `yaml:"timeout"`
	// Env holds extra environment variables for the program; ${NAME} in a
	// value is replaced by the environment variable NAME. The program gets
	// only PATH, HOME, LANG and TMPDIR and these.
	Env map[string]string `yaml:"env"`
}

// Exec runs a program for every output. The program reads one JSON object
// on stdin:
//
//	{"output": "...", "expected": "...", "example": {...}, "variant": "...",
//	 "latency_ms": 812.5, "prompt_tokens": 120, "completion_tokens": 48,
//	 "cost_usd": 0.00031}
//
// ("cost_usd" is null when the cost is unknown) and prints one JSON object
// on stdout:
//
//	{"score": 0.75, "pass": true, "reason": "...", "label": "...", "details": {...}}
//
// "pass" is required; "score" is a number from 0 to 1, or null or absent
// for none; the rest are optional. The program runs in the spec's
// directory. A non-zero exit, a timeout, output that is not such an object
// (or anything after it), or a score outside 0..1 is a judge error
// carrying the start and end of stderr, or what was printed on stdout.
//
// The values the judge's env took from the environment are secrets: they
// are replaced by "[redacted]" in everything kept of what the program
// printed (its verdict's reason, label and details, the stderr and stdout
// quoted in an error), and so are Bearer tokens and URL credentials in
// those errors. The text is redacted before it is cut, and a piece of a
// secret of 8 bytes or more left at a cut is redacted too.
type Exec struct {
	argv    []string
	dir     string
	timeout time.Duration
	env     []string
	secrets []string        // values the env took from the environment
	sec     *redact.Secrets // the same, as a set
}

var _ Judge = (*Exec)(nil)

// NewExec checks cfg and returns an exec judge. A missing command, a
// program path that does not exist, a negative timeout or an invalid
// variable name is an error naming the field.
func NewExec(cfg ExecConfig, env Env) (*Exec, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New("command: required: the program and its arguments, as a list")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout: must be positive, got %s", cfg.Timeout)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultExecTimeout
	}
	var dir string
	if env.Dir != "" {
		var err error
		if dir, err = filepath.Abs(env.Dir); err != nil {
			return nil, fmt.Errorf("command: %w", err)
		}
	}
	argv := slices.Clone(cfg.Command)
	if prog := argv[0]; strings.ContainsRune(prog, '/') || strings.ContainsRune(prog, filepath.Separator) {
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(dir, prog)
			if dir == "" {
				var err error
				if prog, err = filepath.Abs(prog); err != nil {
					return nil, fmt.Errorf("command[0]: %w", err)
				}
			}
		}
		st, err := os.Stat(prog)
		if err != nil {
			return nil, fmt.Errorf("command[0]: %w", err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("command[0]: %s is a directory", prog)
		}
		argv[0] = prog
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	j := &Exec{argv: argv, dir: dir, timeout: timeout}
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
		if _, set := cfg.Env[k]; set {
			continue
		}
		if v := getenv(k); v != "" {
			j.env = append(j.env, k+"="+v)
		}
	}
	names := make([]string, 0, len(cfg.Env))
	for k := range cfg.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("env: invalid variable name %q", k)
		}
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		val := os.Expand(cfg.Env[k], func(name string) string {
			v := getenv(name)
			if v != "" {
				j.secrets = append(j.secrets, v)
			}
			return v
		})
		j.env = append(j.env, k+"="+val)
	}
	j.sec = redact.New(j.secrets...)
	return j, nil
}

// execRequest is what the program reads on stdin.
type execRequest struct {
	Output           string         `json:"output"`
	Expected         string         `json:"expected"`
	Example          map[string]any `json:"example"`
	Variant          string         `json:"variant"`
	LatencyMS        float64        `json:"latency_ms"`
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	CostUSD          *float64       `json:"cost_usd"`
}

// execReply is what the program prints on stdout.
type execReply struct {
	Score   *float64       `json:"score"`
	Pass    *bool          `json:"pass"`
	Reason  string         `json:"reason"`
	Label   string         `json:"label"`
	Details map[string]any `json:"details"`
}

// Judge runs the program on in. The secrets are redacted from the verdict
// and the error.
func (j *Exec) Judge(ctx context.Context, in Input) (Verdict, error) {
	v, err := j.run(ctx, in)
	if err != nil {
		return Verdict{}, j.redact(err)
	}
	v.Reason = j.sec.String(v.Reason)
	v.Label = j.sec.String(v.Label)
	if v.Details != nil {
		v.Details, _ = redactJSON(v.Details, j.sec).(map[string]any)
	}
	return v, nil
}

// redactJSON returns v, a decoded JSON value, with the secrets redacted
// from its strings and object keys.
func redactJSON(v any, sec *redact.Secrets) any {
	switch x := v.(type) {
	case string:
		return sec.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[sec.String(k)] = redactJSON(e, sec)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactJSON(e, sec)
		}
		return out
	}
	return v
}

func (j *Exec) run(ctx context.Context, in Input) (Verdict, error) {
	example := in.Example
	if example == nil {
		example = map[string]any{}
	}
	payload, err := json.Marshal(execRequest{
		Output: in.Output, Expected: in.Expected, Example: example, Variant: in.Variant,
		LatencyMS: in.LatencyMS, PromptTokens: in.PromptTokens, CompletionTokens: in.CompletionTokens,
		CostUSD: in.CostUSD,
	})
	if err != nil {
		return Verdict{}, fmt.Errorf("exec: encoding the input for %s: %w", j.argv[0], err)
	}
	rctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, j.argv[0], j.argv[1:]...)
	cmd.Stdin = bytes.NewReader(payload)
	cmd.Dir = j.dir
	cmd.Env = j.env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would mean the whole environment of gavel
	}
	cmd.WaitDelay = time.Second
	stdout := &cappedBuffer{max: execMaxStdout}
	stderr := &headTailBuffer{max: execMaxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	prog := j.argv[0]
	switch {
	case ctx.Err() != nil:
		return Verdict{}, fmt.Errorf("exec: %s: %w", prog, ctx.Err())
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return Verdict{}, fmt.Errorf("exec: %s timed out after %s%s", prog, j.timeout, stderr.describe(j.sec, j.secrets))
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return Verdict{}, fmt.Errorf("exec: %s failed (%v)%s", prog, ee.ProcessState, stderr.describe(j.sec, j.secrets))
		}
		return Verdict{}, fmt.Errorf("exec: %s: %w%s", prog, err, stderr.describe(j.sec, j.secrets))
	case stdout.overflow:
		return Verdict{}, fmt.Errorf("exec: %s printed more than %d bytes on stdout", prog, execMaxStdout)
	}
	out := stdout.buf.Bytes()
	if len(bytes.TrimSpace(out)) == 0 {
		return Verdict{}, fmt.Errorf(`exec: %s printed nothing on stdout; it must print a JSON object such as {"pass": true, "score": 1, "reason": "..."}%s`,
			prog, stderr.describe(j.sec, j.secrets))
	}
	var reply execReply
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&reply); err != nil {
		return Verdict{}, fmt.Errorf("exec: %s printed invalid JSON (%v): stdout %s%s", prog, err, j.quote(string(out)), stderr.describe(j.sec, j.secrets))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Verdict{}, fmt.Errorf("exec: %s printed text after the JSON object: stdout %s", prog, j.quote(string(out)))
	}
	if reply.Pass == nil {
		return Verdict{}, fmt.Errorf(`exec: %s printed no "pass" (true or false): stdout %s`, prog, j.quote(string(out)))
	}
	if s := reply.Score; s != nil && (math.IsNaN(*s) || *s < 0 || *s > 1) {
		return Verdict{}, fmt.Errorf(`exec: %s printed "score" %v, outside 0..1 (use null for none): stdout %s`, prog, *s, j.quote(string(out)))
	}
	v := Verdict{Score: reply.Score, Pass: *reply.Pass, Reason: reply.Reason, Label: reply.Label, Details: reply.Details}
	if v.Reason == "" {
		v.Reason = fmt.Sprintf("%s gave no reason (pass: %v)", filepath.Base(prog), v.Pass)
	}
	return v, nil
}

// redact replaces the environment values the judge's env used, Bearer
// tokens and URL credentials in err's message, so that a program echoing
// its environment cannot put secrets in the stored results. The parts of
// the message quoting the program were redacted before they were cut;
// this catches the rest.
func (j *Exec) redact(err error) error {
	msg := err.Error()
	red := j.sec.Text(msg, -1, "")
	if red == msg {
		return err
	}
	return errors.New(red)
}

// quote returns the program's text s quoted for an error: redacted, then
// cut to reasonRunes runes ("…" after the quote when it was cut), with a
// prefix of a secret left at the cut redacted too.
func (j *Exec) quote(s string) string {
	red := j.sec.Text(s, -1, "")
	if kept := j.sec.Truncate(red, reasonRunes, ""); kept != red {
		return fmt.Sprintf("%q…", kept)
	}
	return fmt.Sprintf("%q", red)
}

// cappedBuffer keeps up to max bytes written to it and notes overflow.
// Writes never fail, so the program is never stopped by a broken pipe.
type cappedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.overflow = true
		b.buf.Write(p[:max(room, 0)])
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

// headTailBuffer keeps the first and the last max/2 bytes written to it:
// the start of a program's error output says what it was doing, the end
// (a traceback's last line) what went wrong.
type headTailBuffer struct {
	head, tail []byte
	max        int
	dropped    bool // bytes were dropped between head and tail
}

func (b *headTailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max/2 - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head, p = append(b.head, p[:k]...), p[k:]
	}
	b.tail = append(b.tail, p...)
	if extra := len(b.tail) - b.max/2; extra > 0 {
		b.tail, b.dropped = append(b.tail[:0], b.tail[extra:]...), true
	}
	return n, nil
}

// describe returns ": stderr: ..." with the start and the end of what was
// written, or "" when nothing was. The text is redacted (sec, Bearer
// tokens, URL credentials) before it is cut, and a piece of one of the
// secrets of at least redact.MinPrefix bytes left at a cut (the end of the
// start, the beginning of the end) is redacted too.
func (b *headTailBuffer) describe(sec *redact.Secrets, secrets []string) string {
	var first, last string
	if b.dropped {
		// The bytes between head and tail are gone: each part is redacted
		// on its own, a secret cut off at the tail's start included.
		first = sec.Text(strings.ToValidUTF8(string(b.head), ""), -1, "")
		last = redactLeadingSuffix(sec.Text(strings.ToValidUTF8(string(b.tail), ""), -1, ""), secrets)
	} else {
		whole := sec.Text(strings.ToValidUTF8(string(b.head)+string(b.tail), ""), -1, "")
		if len(whole) <= execShowBytes {
			if s := strings.TrimSpace(whole); s != "" {
				return ": stderr: " + s
			}
			return ""
		}
		first, last = whole, whole
	}
	if n := execShowBytes * 3 / 10; len(first) > n {
		for n > 0 && !utf8.RuneStart(first[n]) {
			n--
		}
		first = sec.String(first[:n])
	}
	if n := len(last) - execShowBytes*7/10; n > 0 {
		for n < len(last) && !utf8.RuneStart(last[n]) {
			n++
		}
		last = redactLeadingSuffix(last[n:], secrets)
	}
	return ": stderr: " + strings.TrimSpace(first) + " … " + strings.TrimSpace(last)
}

// redactLeadingSuffix replaces by redact.Mark the longest proper suffix, at
// least redact.MinPrefix bytes long, of one of the secrets that text starts
// with: the end of a secret whose start was cut off.
func redactLeadingSuffix(text string, secrets []string) string {
	best := 0
	for _, s := range secrets {
		for _, v := range []string{s, strings.TrimSpace(s)} {
			for l := min(len(v)-1, len(text)); l >= redact.MinPrefix && l > best; l-- {
				if strings.HasPrefix(text, v[len(v)-l:]) {
					best = l
					break
				}
			}
		}
	}
	if best == 0 {
		return text
	}
	return redact.Mark + text[best:]
}
