package judges

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gavel-eval/gavel/internal/redact"
)

// buildExecJudge builds the test program of testdata/more/execjudge into
// dir and returns its path.
func buildExecJudge(t *testing.T, dir string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the exec judge tests use Unix paths")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the test program:", err)
	}
	bin := filepath.Join(dir, "execjudge")
	cmd := exec.Command(goTool, "build", "-o", bin, "./testdata/more/execjudge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test program: %v\n%s", err, out)
	}
	return bin
}

func TestExec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildExecJudge(t, filepath.Join(dir))
	// The spec's directory, with the program under bin/.
	spec := filepath.Join(dir, "spec")
	if err := os.MkdirAll(filepath.Join(spec, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(bin, filepath.Join(spec, "bin", "execjudge")); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{
		"PATH": "/usr/bin:/bin", "HOME": "/home/tester", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
		"TOKEN": "supersecret-token", "OTHER": "must not leak",
		"CANARY": "sk-CANARY-0123456789abcdefXYZ",
	}
	env := Env{Dir: spec, Getenv: func(k string) string { return environ[k] }}
	build := func(t *testing.T, cfg ExecConfig) *Exec {
		t.Helper()
		if cfg.Command == nil {
			cfg.Command = []string{"./bin/execjudge"}
		}
		j, err := NewExec(cfg, env)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	judge := func(t *testing.T, j Judge, mode, out string) (Verdict, error) {
		t.Helper()
		return j.Judge(context.Background(), Input{Output: out, Expected: mode})
	}
	j := build(t, ExecConfig{})

	t.Run("verdicts", func(t *testing.T) {
		t.Parallel()
		v, err := judge(t, j, "match", "yes")
		if err != nil {
			t.Fatal(err)
		}
		if v.Score == nil || *v.Score != 1 || !v.Pass || v.Reason != "output was yes" || v.Label != "checked" {
			t.Errorf("match yes: %+v", v)
		}
		v, err = judge(t, j, "match", "no")
		if err != nil || v.Score == nil || *v.Score != 0 || v.Pass {
			t.Errorf("match no: %+v, %v", v, err)
		}
		v, err = judge(t, j, "null-score", "")
		if err != nil || v.Score != nil || v.Pass || v.Reason != "no scale" {
			t.Errorf("null score: %+v, %v", v, err)
		}
		v, err = judge(t, j, "no-reason", "")
		if err != nil || !v.Pass || v.Reason != "execjudge gave no reason (pass: true)" {
			t.Errorf("no reason: %+v, %v", v, err)
		}
		v, err = judge(t, j, "details", "")
		if err != nil || *v.Score != 0.25 || v.Details["n"] != 3.0 {
			t.Errorf("details: %+v, %v", v, err)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		in := Input{
			Output: "héllo\n\"quoted\"", Expected: "echo", Variant: "v2",
			Example:   map[string]any{"id": "ex-1", "n": 3},
			LatencyMS: 812.5, PromptTokens: 120, CompletionTokens: 48, CostUSD: ptr(0.00031),
		}
		v, err := j.Judge(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(v.Reason), &got); err != nil {
			t.Fatalf("stdin %q: %v", v.Reason, err)
		}
		want := map[string]any{
			"output": in.Output, "expected": "echo", "variant": "v2",
			"example":    map[string]any{"id": "ex-1", "n": 3.0},
			"latency_ms": 812.5, "prompt_tokens": 120.0, "completion_tokens": 48.0, "cost_usd": 0.00031,
		}
		if !jsonEqualValues(got, want) {
			t.Errorf("stdin = %v, want %v", got, want)
		}
		// Unknown cost and no example.
		v, err = j.Judge(context.Background(), Input{Expected: "echo"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(v.Reason, `"cost_usd":null`) || !strings.Contains(v.Reason, `"example":{}`) {
			t.Errorf("stdin %s: want null cost and an empty example", v.Reason)
		}
	})

	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		j := build(t, ExecConfig{Env: map[string]string{"API_TOKEN": "${TOKEN}", "MODE": "strict", "LANG": "fr_FR.UTF-8"}})
		v, err := judge(t, j, "env", "")
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(v.Reason, "\n")
		// The program gets the value; what it prints of it is redacted.
		want := []string{"API_TOKEN=[redacted]", "HOME=/home/tester", "LANG=fr_FR.UTF-8", "MODE=strict", "PATH=/usr/bin:/bin", "TMPDIR=/tmp"}
		if !slices.Equal(got, want) {
			t.Errorf("environment = %q, want %q", got, want)
		}
		if v, err := judge(t, j, "env-has", "API_TOKEN=supersecret-token"); err != nil || !v.Pass {
			t.Errorf("API_TOKEN is not the value from the environment: %+v, %v", v, err)
		}
		// Without Getenv the program gets only its env.
		j2, err := NewExec(ExecConfig{Command: []string{"./bin/execjudge"}, Env: map[string]string{"A": "1"}}, Env{Dir: spec})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := judge(t, j2, "env", ""); err != nil || v.Reason != "A=1" {
			t.Errorf("environment without Getenv = %q, %v", v.Reason, err)
		}
		// The working directory is the spec's directory.
		if v, err := judge(t, j, "cwd", ""); err != nil || v.Reason != spec {
			t.Errorf("working directory = %q, %v; want %q", v.Reason, err, spec)
		}
	})

	t.Run("command", func(t *testing.T) {
		t.Parallel()
		j := build(t, ExecConfig{Command: []string{"bin/execjudge", "a b", "--flag", "$HOME"}})
		if v, err := judge(t, j, "args", ""); err != nil || v.Reason != "a b|--flag|$HOME" {
			t.Errorf("arguments = %q, %v (no shell should expand them)", v.Reason, err)
		}
		j = build(t, ExecConfig{Command: []string{bin}}) // absolute
		if _, err := judge(t, j, "match", "yes"); err != nil {
			t.Error(err)
		}
		j = build(t, ExecConfig{Command: []string{"gavel-no-such-program-on-path"}}) // bare names are looked up when run
		if _, err := judge(t, j, "match", "yes"); err == nil || !strings.Contains(err.Error(), "gavel-no-such-program-on-path") {
			t.Errorf("missing program on PATH: error %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		secret := build(t, ExecConfig{Env: map[string]string{"API_TOKEN": "Bearer ${TOKEN}"}})
		for _, tt := range []struct {
			j       Judge
			mode    string
			want    []string
			notWant []string
		}{
			{j, "exit", []string{"exec: ", "execjudge failed (exit status 3): stderr: Traceback: something broke"}, nil},
			{secret, "exit-secret", []string{"exit status 1", "token is Bearer [redacted]"}, []string{"supersecret"}},
			{j, "big-stderr", []string{"stderr: FIRST-LINE", " … ", "LAST-LINE"}, nil},
			{j, "bad-json", []string{"printed invalid JSON", `stdout "score: 1, pass: yes\n"`}, nil},
			{j, "log-then-json", []string{"printed invalid JSON", "loading model..."}, nil},
			{j, "trailing", []string{"printed text after the JSON object", `{\"pass\": false}`}, nil},
			{j, "empty", []string{"printed nothing on stdout"}, nil},
			{j, "no-pass", []string{`printed no "pass" (true or false)`, "forgot pass"}, nil},
			{j, "pass-string", []string{"printed invalid JSON", "cannot unmarshal string"}, nil},
			{j, "score-high", []string{`printed "score" 1.5, outside 0..1`}, nil},
			{j, "score-negative", []string{`printed "score" -0.1, outside 0..1`}, nil},
			{j, "score-string", []string{"printed invalid JSON", "cannot unmarshal string"}, nil},
			{j, "huge-stdout", []string{"printed more than 1048576 bytes on stdout"}, nil},
			{j, "unknown-mode", []string{"exit status 2", `unknown mode "unknown-mode"`}, nil},
		} {
			_, err := judge(t, tt.j, tt.mode, "")
			if err == nil {
				t.Errorf("%s: no error", tt.mode)
				continue
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q lacks %q", tt.mode, err, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q contains %q", tt.mode, err, s)
				}
			}
			if len(err.Error()) > 2000 {
				t.Errorf("%s: error is %d bytes long", tt.mode, len(err.Error()))
			}
		}
	})

	t.Run("secrets at cuts", func(t *testing.T) {
		t.Parallel()
		// A secret the program prints is redacted before its text is cut,
		// so that no cut keeps a piece of it, on stderr (start and end,
		// with or without bytes dropped in the middle), in quoted stdout
		// and in a reply's reason, label and details.
		canary := environ["CANARY"]
		j := build(t, ExecConfig{Env: map[string]string{"API_TOKEN": "${CANARY}"}})
		head, tail := execShowBytes*3/10, execShowBytes*7/10
		type place struct {
			where      string
			cut, total int // the secret straddles byte cut of total
		}
		var places []place
		for _, total := range []int{5000, 100_000} { // 100_000: stderr's middle is dropped
			places = append(places, place{"stderr", head, total}, place{"stderr", total - tail, total})
		}
		places = append(places, place{"stdout", reasonRunes, 1000}, place{"reply", reasonRunes, 1000})
		for _, p := range places {
			for _, before := range []int{1, 4, 7, 8, 9, 15, len(canary) - 8, len(canary) - 1} {
				arg := fmt.Sprintf("%s %d %d", p.where, p.cut-before, p.total)
				v, err := judge(t, j, "secret-at", arg)
				var kept string
				switch {
				case p.where == "reply" && err != nil:
					t.Errorf("%s: %v", arg, err)
					continue
				case p.where == "reply":
					details, _ := json.Marshal(v.Details)
					kept = v.Reason + "\n" + v.Label + "\n" + string(details)
					list, _ := v.Details["list"].([]any)
					if !strings.Contains(v.Reason, "."+redact.Mark+".") || v.Label != redact.Mark || len(list) == 0 || list[0] != redact.Mark {
						t.Errorf("%s: reason, label or details: want the secret replaced by %s", arg, redact.Mark)
					}
				case err == nil:
					t.Errorf("%s: no error", arg)
					continue
				default:
					kept = err.Error()
				}
				for i := 0; i+redact.MinPrefix <= len(canary); i++ {
					piece := canary[i : i+redact.MinPrefix]
					if at := strings.Index(kept, piece); at >= 0 {
						t.Errorf("%s: %q holds %q of the secret", arg, kept[max(0, at-40):min(len(kept), at+40)], piece)
						break
					}
				}
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		for _, mode := range []string{"sleep", "grandchild"} {
			j := build(t, ExecConfig{Timeout: 300 * time.Millisecond})
			start := time.Now()
			_, err := judge(t, j, mode, "")
			if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
				t.Errorf("%s: error %v, want a timeout", mode, err)
			}
			// A grandchild holding stdout open must not keep the judge
			// waiting past WaitDelay.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s: judge returned after %s", mode, d)
			}
		}
	})

	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err := j.Judge(ctx, Input{Expected: "sleep"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled: error %v", err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				out, pass := "yes", true
				if i%2 == 1 {
					out, pass = "no", false
				}
				v, err := j.Judge(context.Background(), Input{Output: out, Expected: "match"})
				if err != nil || v.Pass != pass {
					t.Errorf("concurrent %s: %+v, %v", out, v, err)
				}
			})
		}
		wg.Wait()
	})

	t.Run("build", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			cfg  ExecConfig
			want string
		}{
			{ExecConfig{}, "command: required"},
			{ExecConfig{Command: []string{""}}, "command: required"},
			{ExecConfig{Command: []string{"./bin/nope"}}, "command[0]: stat " + filepath.Join(spec, "bin/nope") + ": no such file"},
			{ExecConfig{Command: []string{"bin"}}, ""}, // a bare name: looked up on PATH when run
			{ExecConfig{Command: []string{"./bin"}}, "command[0]: " + filepath.Join(spec, "bin") + " is a directory"},
			{ExecConfig{Command: []string{"./bin/execjudge"}, Timeout: -time.Second}, "timeout: must be positive"},
			{ExecConfig{Command: []string{"./bin/execjudge"}, Env: map[string]string{"A=B": "x"}}, `env: invalid variable name "A=B"`},
			{ExecConfig{Command: []string{"./bin/execjudge"}, Env: map[string]string{"": "x"}}, `env: invalid variable name ""`},
		} {
			_, err := NewExec(tt.cfg, env)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewExec(%+v): %v", tt.cfg, err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("NewExec(%+v): error %v, want prefix %q", tt.cfg, err, tt.want)
			}
		}
		j, err := NewExec(ExecConfig{Command: []string{"./bin/execjudge"}}, env)
		if err != nil || j.timeout != DefaultExecTimeout || DefaultExecTimeout != 30*time.Second {
			t.Errorf("default timeout: %v, %v", j, err)
		}
	})
}

// jsonEqualValues compares two decoded JSON values.
func jsonEqualValues(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func TestExecBuffers(t *testing.T) {
	t.Parallel()
	b := &headTailBuffer{max: 20}
	for _, chunk := range []string{"0123456789", "abcdefghij", "ABCDEFGHIJ", "KLM"} {
		if n, err := b.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if string(b.head) != "0123456789" || string(b.tail) != "DEFGHIJKLM" || !b.dropped {
		t.Errorf("head %q tail %q dropped %v", b.head, b.tail, b.dropped)
	}
	if got := b.describe(nil, nil); got != ": stderr: 0123456789 … DEFGHIJKLM" {
		t.Errorf("describe() = %q", got)
	}
	short := &headTailBuffer{max: 100}
	short.Write([]byte("  line one\nline two\n"))
	if got := short.describe(nil, nil); got != ": stderr: line one\nline two" {
		t.Errorf("describe() = %q", got)
	}
	if got := (&headTailBuffer{max: 100}).describe(nil, nil); got != "" {
		t.Errorf("describe() of nothing = %q", got)
	}
	// Exactly filling head and tail drops nothing.
	full := &headTailBuffer{max: 10}
	full.Write([]byte("abcdefghij"))
	if full.dropped || full.describe(nil, nil) != ": stderr: abcdefghij" {
		t.Errorf("full buffer: %+v %q", full, full.describe(nil, nil))
	}

	// A secret whose start fell between head and tail: its end, where the
	// tail starts, is redacted; so is a secret's start ending the head.
	secret := "sk-CANARY-0123456789"
	cut := &headTailBuffer{max: 40}
	cut.Write([]byte("head-" + strings.Repeat("h", 5) + secret[:10] + "dropped-" + secret + "tail-end.."))
	if got, want := cut.describe(redact.New(secret), []string{secret}), ": stderr: head-hhhhh[redacted] … [redacted]tail-end.."; got != want {
		t.Errorf("describe() with a secret cut = %q, want %q", got, want)
	}

	c := &cappedBuffer{max: 5}
	c.Write([]byte("abc"))
	if c.overflow {
		t.Error("overflow before the cap")
	}
	if n, _ := c.Write([]byte("defg")); n != 4 || !c.overflow || c.buf.String() != "abcde" {
		t.Errorf("capped buffer: n=%d %+v %q", n, c.overflow, c.buf.String())
	}
}
