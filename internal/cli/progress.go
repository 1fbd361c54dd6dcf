package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gavel-eval/gavel/eval"
	"github.com/gavel-eval/gavel/eval/results"
)

// newProgress returns a progress bar on a terminal, and plain periodic
// lines on stderr otherwise (CI logs).
func newProgress(env *Env) eval.Progress {
	if env.StderrTTY {
		return &barProgress{w: env.Stderr}
	}
	return &lineProgress{w: env.Stderr, now: env.Now, every: 10 * time.Second}
}

// Both progress displays count a resumed run's kept results.
var (
	_ eval.KeptProgress = (*barProgress)(nil)
	_ eval.KeptProgress = (*lineProgress)(nil)
)

type barProgress struct {
	w      io.Writer
	bar    *progressbar.ProgressBar
	errors int
	kept   int // results a resumed run keeps from before
}

// Kept records how many results a resumed run keeps; Start's total then
// counts only those it runs.
func (p *barProgress) Kept(n int) { p.kept = n }

// describe is the bar's label: what it counts, and the errors so far.
func (p *barProgress) describe() string {
	d := "running"
	if p.kept > 0 {
		d = fmt.Sprintf("resuming (%d kept)", p.kept)
	}
	if p.errors > 0 {
		d += fmt.Sprintf(" (%d errors)", p.errors)
	}
	return d
}

func (p *barProgress) Start(total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.describe()),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("results"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)
}

func (p *barProgress) Result(r *results.Result) {
	if r.Status == results.StatusError {
		p.errors++
		p.bar.Describe(p.describe())
	}
	_ = p.bar.Add(1)
}

func (p *barProgress) Finish() { _ = p.bar.Finish() }

type lineProgress struct {
	w      io.Writer
	now    func() time.Time
	every  time.Duration
	total  int
	kept   int // results a resumed run keeps from before
	done   int
	errors int
	start  time.Time
	last   time.Time
}

// Kept records how many results a resumed run keeps; Start's total then
// counts only those it runs, and every line says both.
func (p *lineProgress) Kept(n int) { p.kept = n }

func (p *lineProgress) Start(total int) {
	p.total = total
	p.start = p.now()
	p.last = p.start
	if p.kept > 0 {
		fmt.Fprintf(p.w, "gavel: resuming: %d to run, %d kept\n", total, p.kept)
		return
	}
	fmt.Fprintf(p.w, "gavel: running %d results\n", total)
}

// count is how far the run is: "12/600 results", or on resume "12 of 415
// to run, 185 kept".
func (p *lineProgress) count() string {
	if p.kept > 0 {
		return fmt.Sprintf("%d of %d to run, %d kept", p.done, p.total, p.kept)
	}
	return fmt.Sprintf("%d/%d results", p.done, p.total)
}

func (p *lineProgress) Result(r *results.Result) {
	p.done++
	if r.Status == results.StatusError {
		p.errors++
	}
	if now := p.now(); now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintf(p.w, "gavel: %s (%d errors), %s elapsed\n", p.count(), p.errors, now.Sub(p.start).Round(time.Second))
	}
}

func (p *lineProgress) Finish() {
	fmt.Fprintf(p.w, "gavel: %s (%d errors) in %s\n", p.count(), p.errors, p.now().Sub(p.start).Round(time.Millisecond))
}
