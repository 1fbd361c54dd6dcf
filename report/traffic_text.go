package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gavel-eval/gavel/report/traffic"
	"github.com/gavel-eval/gavel/traces"
)

// TrafficTextOptions tune the text of a trace table and a dashboard.
type TrafficTextOptions struct {
	// Color marks failed traces and high error rates in red.
	Color bool
	// MoreHint ends the line that counts the matching traces the table
	// leaves out.
	MoreHint string
}

// cell shows an untrusted value in a table cell: cut, escaped, "–" when
// empty.
func cell(s string, n int) string {
	if s == "" {
		return "–"
	}
	return textSafe(truncateRunes(s, n))
}

// WriteTrafficTable writes the trace table of sum: newest first, one line
// a trace (start, trace id, root span, service, user, session, model,
// spans, duration, tokens, cost, status, the joined scores), then the
// counts of what matched. Every value from the traces is escaped.
func WriteTrafficTable(w io.Writer, sum *traffic.Summary, o TrafficTextOptions) error {
	ew := &errWriter{w: w}
	red := func(s string) string {
		if o.Color {
			return ansiRed + s + ansiReset
		}
		return s
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	head := []string{"START (UTC)", "TRACE", "NAME", "SERVICE", "USER", "SESSION", "MODEL", "SPANS", "DURATION", "TOKENS", "COST", "STATUS"}
	for _, j := range sum.Judges {
		head = append(head, strings.ToUpper(cell(j, 24)))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, t := range sum.Table {
		status := t.Status
		if status == string(traces.StatusError) {
			status = red(status)
		}
		name := cell(t.Name, 28)
		if !t.Root {
			name += " (no root)"
		}
		line := []string{t.Start.Format("2006-01-02 15:04:05"), cell(t.TraceID, 32), name, cell(t.Service, 20),
			cell(t.User, 20), cell(t.Session, 20), cell(t.Model, 24), strconv.Itoa(t.Spans),
			treeDuration(time.Duration(t.DurationMS * float64(time.Millisecond))),
			fmt.Sprintf("%d→%d", t.PromptTokens, t.CompletionTokens), trafficUSD(t.CostUSD), status}
		for _, j := range sum.Judges {
			if v, ok := t.Scores[j]; ok {
				line = append(line, strconv.FormatFloat(v, 'f', 3, 64))
			} else {
				line = append(line, "–")
			}
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	tw.Flush()
	noun := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	fmt.Fprintf(ew, "\n%s matched (%s in %s, %s)", noun(sum.Traces, "trace", "traces"), noun(sum.Total, "trace", "traces"),
		noun(len(sum.Files), "file", "files"), noun(int(sum.Spans), "span", "spans"))
	if sum.Errors > 0 {
		fmt.Fprintf(ew, ", %s", red(fmt.Sprintf("%d with errors", sum.Errors)))
	}
	if len(sum.Judges) > 0 {
		fmt.Fprintf(ew, ", %d scored", sum.Scored)
	}
	if !sum.First.IsZero() {
		fmt.Fprintf(ew, "; %s to %s", sum.First.Format("2006-01-02 15:04:05"), sum.Last.Format("2006-01-02 15:04:05 UTC"))
	}
	fmt.Fprintln(ew)
	if more := sum.Traces - len(sum.Table); more > 0 {
		hint := o.MoreHint
		if hint == "" {
			hint = "raise the limit to see them"
		}
		fmt.Fprintf(ew, "… %s not shown (showing the newest %d); %s\n", noun(more, "more trace", "more traces"), len(sum.Table), hint)
	}
	return ew.err
}

// trafficUSD shows a cost, "–" for none.
func trafficUSD(x float64) string {
	if x == 0 {
		return "–"
	}
	return treeUSD(x)
}

// WriteTrafficDashboard writes d as one table a group: a line a bucket
// with its traces, error rate, tokens, cost, latency percentiles and the
// mean score of each judge.
func WriteTrafficDashboard(w io.Writer, d traffic.Dashboard, o TrafficTextOptions) error {
	ew := &errWriter{w: w}
	layout := "2006-01-02 15:00"
	if d.Per == traffic.Day {
		layout = "2006-01-02"
	}
	if len(d.Series) == 0 {
		fmt.Fprintln(ew, "no matching traces")
		return ew.err
	}
	for i, se := range d.Series {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		title := "all traces"
		if d.By != traffic.All {
			title = string(d.By) + " " + textSafe(truncateRunes(se.Group, 60))
		}
		n := fmt.Sprintf("%d traces", se.Traces)
		if se.Traces == 1 {
			n = "1 trace"
		}
		fmt.Fprintf(ew, "%s · %s · per %s (UTC)\n", title, n, d.Per)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := []string{strings.ToUpper(string(d.Per)), "TRACES", "ERRORS", "TOKENS IN", "TOKENS OUT", "COST", "P50", "P90", "P95", "P99"}
		for _, j := range d.Judges {
			head = append(head, strings.ToUpper(cell(j, 24)))
		}
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		for _, b := range se.Buckets {
			errs := strconv.FormatFloat(100*b.ErrorRate, 'f', 1, 64) + "%"
			if b.Errors > 0 && o.Color {
				errs = ansiRed + errs + ansiReset
			}
			ms := func(x float64) string { return treeDuration(time.Duration(x * float64(time.Millisecond))) }
			line := []string{b.Start.Format(layout), strconv.Itoa(b.Traces), errs, strconv.FormatInt(b.PromptTokens, 10),
				strconv.FormatInt(b.CompletionTokens, 10), trafficUSD(b.CostUSD), ms(b.P50MS), ms(b.P90MS), ms(b.P95MS), ms(b.P99MS)}
			for _, j := range d.Judges {
				if m, ok := b.Scores[j]; ok {
					line = append(line, fmt.Sprintf("%.3f (n=%d)", m.Mean, m.N))
				} else {
					line = append(line, "–")
				}
			}
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
		}
		tw.Flush()
	}
	return ew.err
}

// WriteTrafficTrace prints one trace of the span files as a tree, like
// WriteTraceTrees: its header gives the service, user and session, and
// every span sits under its parent. It returns ErrNoTrace when no file
// holds the trace.
func WriteTrafficTrace(w io.Writer, files []string, traceID string, o TreeOptions) error {
	t := &heldTrace{id: traceID}
	for _, f := range files {
		err := traces.ReadFile(f, func(r traces.Record) error {
			if r.TraceID == traceID {
				t.spans = append(t.spans, r.Span)
				if t.variant == "" {
					t.variant = r.Variant
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading spans: %w", err)
		}
	}
	if len(t.spans) == 0 {
		return fmt.Errorf("trace %q: %w", traceID, ErrNoTrace)
	}
	var user, session string
	for _, s := range t.spans {
		if user == "" {
			user, _ = s.Attributes["user_id"].(string)
		}
		if session == "" {
			session, _ = s.Attributes["session_id"].(string)
		}
	}
	t.header = []string{"service " + orDash(t.variant), "user " + orDash(user), "session " + orDash(session)}
	tw := &treeWriter{ew: &errWriter{w: w}, o: o}
	tw.trace(t)
	if tw.ew.err != nil {
		return fmt.Errorf("writing the trace: %w", tw.ew.err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
