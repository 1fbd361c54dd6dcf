package browsertest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gavel-eval/gavel/internal/testrun"
)

var screenshots = flag.String("screenshots", "", "write the screenshots of TestScreenshots to this `directory` (docs/img)")

// chromium finds a Chromium or Chrome binary: $GAVEL_CHROMIUM, then the
// usual names on PATH. Without one the browser tests skip, saying why,
// unless GAVEL_REQUIRE_BROWSER is set (CI sets it: there a missing browser
// is a failure, not a skip).
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GAVEL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("GAVEL_REQUIRE_BROWSER") != "" {
		t.Fatal("GAVEL_REQUIRE_BROWSER is set but no Chromium was found (install the chromium package or set GAVEL_CHROMIUM)")
	}
	t.Skip("no Chromium found: install the chromium package (or set GAVEL_CHROMIUM) to run the browser tests; CI does")
	return ""
}

// browser is one headless Chromium tab. It records uncaught exceptions,
// console errors and content-security-policy violations, which every test
// requires to be none.
type browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

// watchScript runs in every page before the page's own script: it counts
// CSP violations, so a test can prove nothing tried to run.
const watchScript = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));`

func newBrowser(t testing.TB) *browser {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	// The first action starts the browser; it must not run under a
	// timeout (that would stop the browser with it).
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript})
		return err
	})); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.problem(m.String())
			}
		}
	}()
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	b.problems = append(b.problems, s)
	b.mu.Unlock()
}

// actionTimeout bounds every step of a test.
const actionTimeout = 30 * time.Second

// do runs actions, failing the test with what was being done.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// evalJS evaluates a JavaScript expression and returns its value.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *browser) count(selector string) int {
	b.t.Helper()
	return evalJS[int](b, fmt.Sprintf("document.querySelectorAll(%q).length", selector))
}

// text is the text content of the first element matching selector, once
// it is visible.
func (b *browser) text(selector string) string {
	b.t.Helper()
	b.do("waiting for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
	return evalJS[string](b, fmt.Sprintf("document.querySelector(%q).textContent", selector))
}

func (b *browser) click(selector string) {
	b.t.Helper()
	b.do("clicking "+selector, chromedp.WaitVisible(chromedp.CSS(selector)), chromedp.Click(chromedp.CSS(selector)))
}

// waitFor waits until a JavaScript condition holds.
func (b *browser) waitFor(cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v", cond, err)
	}
}

// screenshot captures the window (1400×900) as a PNG.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// clean fails the test on any exception, console error or CSP violation
// seen so far, and on any sign that an injected payload ran.
func (b *browser) clean() {
	b.t.Helper()
	// Console messages arrive asynchronously; let the last ones land.
	evalJS[bool](b, "new Promise(r => setTimeout(() => r(true), 100))")
	b.mu.Lock()
	for _, p := range b.problems {
		b.t.Error(p)
	}
	b.problems = nil
	b.mu.Unlock()
	for _, v := range evalJS[[]string](b, "window.__cspViolations || []") {
		b.t.Errorf("content security policy violation: %s", v)
	}
	if pwned := evalJS[*string](b, "window.__gavelPwned === undefined ? null : String(window.__gavelPwned)"); pwned != nil {
		b.t.Errorf("an injected payload ran: window.__gavelPwned = %s", *pwned)
	}
}

// fixtures are the runs and pages the tests open, made once per test
// binary.
type fixtures struct {
	dir            string // holds the runs
	hostile        string // run of testdata/hostile
	arith, arith2  string // runs of examples/arithmetic (arith2: 2 epochs)
	hostileReport  string // file:// URLs of the pages
	hostileCompare string
	arithReport    string
	arithCompare   string // two runs compared
	arithAB        string // hinted against plain within one run
	arithGreater   string // the same, one-sided (B better)
	arithGreaterJS string // its JSON report
}

var (
	fixOnce sync.Once
	fix     fixtures
	fixErr  error
)

func getFixtures(t testing.TB) fixtures {
	t.Helper()
	fixOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gavel-browser-")
		if err != nil {
			fixErr = err
			return
		}
		fix.dir = filepath.Join(dir, "runs")
		fix.hostile = filepath.Join(fix.dir, "hostile")
		fix.arith = filepath.Join(fix.dir, "arith")
		fix.arith2 = filepath.Join(fix.dir, "arith-epochs")
		steps := [][]string{
			{"run", "testdata/hostile/gavel.yaml", "--out", fix.hostile},
			{"run", "../../examples/arithmetic/gavel.yaml", "--out", fix.arith},
			{"run", "../../examples/arithmetic/gavel.yaml", "--out", fix.arith2, "--repeat", "2"},
			{"report", fix.hostile, "--format", "html=" + filepath.Join(dir, "hostile.html")},
			{"compare", fix.hostile, "--a", "echo", "--b", "calc", "--format", "html=" + filepath.Join(dir, "hostile-compare.html")},
			{"report", fix.arith, "--format", "html=" + filepath.Join(dir, "arith.html")},
			{"compare", fix.arith, fix.arith2, "--format", "html=" + filepath.Join(dir, "arith-compare.html")},
			{"compare", fix.arith, "--a", "hinted", "--b", "plain", "--format", "html=" + filepath.Join(dir, "arith-ab.html")},
			{"compare", fix.arith, "--a", "hinted", "--b", "plain", "--alternative", "greater",
				"--format", "html=" + filepath.Join(dir, "arith-greater.html"), "--format", "json=" + filepath.Join(dir, "arith-greater.json")},
		}
		for _, args := range steps {
			code, stderr := testrun.Gavel(t, args...)
			// Gates may fail (exit 1); the page is written either way.
			if code != 0 && code != 1 {
				fixErr = fmt.Errorf("gavel %s exited %d: %s", strings.Join(args, " "), code, stderr)
				return
			}
		}
		fix.hostileReport = "file://" + filepath.Join(dir, "hostile.html")
		fix.hostileCompare = "file://" + filepath.Join(dir, "hostile-compare.html")
		fix.arithReport = "file://" + filepath.Join(dir, "arith.html")
		fix.arithCompare = "file://" + filepath.Join(dir, "arith-compare.html")
		fix.arithAB = "file://" + filepath.Join(dir, "arith-ab.html")
		fix.arithGreater = "file://" + filepath.Join(dir, "arith-greater.html")
		fix.arithGreaterJS = filepath.Join(dir, "arith-greater.json")
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if fix.dir != "" {
		os.RemoveAll(filepath.Dir(fix.dir))
	}
	os.Exit(code)
}
