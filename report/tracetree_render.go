package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gavel-eval/gavel/traces"
)

// Styles of a line's parts; the ANSI codes are written only with
// TreeOptions.Color.
const (
	treePlain = ""
	treeRed   = "\x1b[31m"
	treeDim   = "\x1b[2m"
	treeBold  = "\x1b[1m"
	treeReset = "\x1b[0m"
)

// treePart is a piece of a printed line and its style.
type treePart struct{ text, style string }

// treeWriter draws traces.
type treeWriter struct {
	ew *errWriter
	o  TreeOptions
}

func (tw *treeWriter) blank() { tw.ew.Write([]byte("\n")) }

// plain writes a line of the tree's own, never cut.
func (tw *treeWriter) plain(s string) { tw.ew.Write([]byte(textSafe(s) + "\n")) }

// line writes one line made of parts. Every part is escaped (it may come
// from the run), the line is cut to the width, and styles are applied
// last, so escape codes neither count as width nor come from the data.
func (tw *treeWriter) line(parts ...treePart) {
	budget := -1
	if tw.o.Width > 0 {
		n := 0
		for i := range parts {
			parts[i].text = textSafe(parts[i].text)
			n += utf8.RuneCountInString(parts[i].text)
		}
		if n > tw.o.Width {
			budget = tw.o.Width - 1 // room for "…"
		}
	} else {
		for i := range parts {
			parts[i].text = textSafe(parts[i].text)
		}
	}
	var b strings.Builder
	for _, p := range parts {
		text := p.text
		cut := false
		if budget >= 0 {
			if n := utf8.RuneCountInString(text); n > budget {
				text = treeFirstRunes(text, budget) + "…"
				cut = true
			} else {
				budget -= n
			}
		}
		if text != "" {
			if tw.o.Color && p.style != treePlain {
				b.WriteString(p.style + text + treeReset)
			} else {
				b.WriteString(text)
			}
		}
		if cut {
			break
		}
	}
	b.WriteByte('\n')
	tw.ew.Write([]byte(b.String()))
}

// treeFirstRunes returns the first n runes of s.
func treeFirstRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// trace draws one trace and returns the number of spans drawn.
func (tw *treeWriter) trace(t *heldTrace) int {
	spans := t.spans
	var first, last time.Time
	failed := false
	for i, s := range spans {
		if i == 0 || s.Start.Before(first) {
			first = s.Start
		}
		if i == 0 || s.End.After(last) {
			last = s.End
		}
		failed = failed || s.Status == traces.StatusError
	}
	status := treePart{"ok", treePlain}
	if failed || t.resultFailed {
		status = treePart{"error", treeRed}
	}
	// The trace id comes last: it is the part a narrow terminal can lose.
	if t.header != nil {
		var parts []treePart
		for _, h := range t.header {
			parts = append(parts, treePart{h, treeBold}, treePart{" · ", treePlain})
		}
		parts = append(parts, treePart{treeDuration(last.Sub(first)), treeDim}, treePart{" · ", treePlain}, status,
			treePart{" · trace " + t.id, treePlain})
		tw.line(parts...)
	} else {
		tw.line(treePart{t.variant, treeBold}, treePart{" · ", treePlain}, treePart{t.example, treeBold},
			treePart{fmt.Sprintf(" · epoch %d · ", t.epoch), treePlain}, treePart{treeDuration(last.Sub(first)), treeDim},
			treePart{" · ", treePlain}, status, treePart{" · trace " + t.id, treePlain})
	}
	if t.resultFailed && !failed {
		// No span says why the result failed: its row does.
		msg := t.resultErr
		if msg == "" {
			msg = "(no message)"
		}
		tw.line(treePart{"│  ", treePlain}, treePart{"result error: " + msg, treeRed})
	}

	// Children by start time; a span whose parent is not in the trace
	// (or is itself) is a root, like the judges.
	index := make(map[string]int, len(spans))
	for i, s := range spans {
		if _, dup := index[s.SpanID]; !dup {
			index[s.SpanID] = i
		}
	}
	children := make(map[int][]int)
	var roots []int
	for i, s := range spans {
		p, ok := index[s.ParentID]
		if s.ParentID == "" || !ok || p == i {
			roots = append(roots, i)
			continue
		}
		children[p] = append(children[p], i)
	}
	byStart := func(ids []int) {
		sort.SliceStable(ids, func(a, b int) bool { return spans[ids[a]].Start.Before(spans[ids[b]].Start) })
	}
	byStart(roots)
	for _, ids := range children {
		byStart(ids)
	}
	seen := make([]bool, len(spans))
	drawn := 0
	var draw func(i int, prefix string, lastChild bool)
	draw = func(i int, prefix string, lastChild bool) {
		seen[i] = true
		drawn++
		branch, cont := "├─ ", "│  "
		if lastChild {
			branch, cont = "└─ ", "   "
		}
		kids := children[i]
		tw.span(&spans[i], t, prefix+branch, prefix+cont, len(kids) > 0)
		for k, c := range kids {
			if !seen[c] {
				draw(c, prefix+cont, k == len(kids)-1)
			}
		}
	}
	for k, r := range roots {
		draw(r, "", k == len(roots)-1)
	}
	// Spans caught in a parent cycle are reachable from no root: draw
	// them too, so that nothing is hidden.
	for i := range spans {
		if !seen[i] {
			draw(i, "", true)
		}
	}
	return drawn
}

// span draws one span line and, below it, its error and (with Full) its
// input and output.
func (tw *treeWriter) span(s *traces.Span, t *heldTrace, head, cont string, hasKids bool) {
	status := treePart{string(s.Status), treePlain}
	if s.Status == traces.StatusError {
		status.style = treeRed
	}
	parts := []treePart{{head + s.Name, treePlain}, {"  " + string(s.Kind) + "  ", treePlain},
		{treeDuration(s.Duration()), treeDim}, {"  ", treePlain}, status}
	for _, d := range treeSpanDetails(s, t.labels[s.SpanID]) {
		parts = append(parts, treePart{"  " + d, treePlain})
	}
	tw.line(parts...)

	indent := cont + "   "
	if hasKids {
		indent = cont + "│  "
	}
	if s.Status == traces.StatusError {
		msg := s.Error
		if msg == "" {
			msg = "(no message)"
		}
		tw.line(treePart{indent, treePlain}, treePart{"error: " + msg, treeRed})
	}
	if tw.o.Full {
		tw.value(indent, "input", s.Input)
		tw.value(indent, "output", s.Output)
	}
}

// value draws a span's input or output: on the label's line when it is one
// line, else indented below it.
func (tw *treeWriter) value(indent, label, v string) {
	if v == "" {
		return
	}
	lines := treeLines(v)
	if len(lines) == 1 {
		tw.line(treePart{indent + label + ": " + lines[0], treePlain})
		return
	}
	tw.line(treePart{indent + label + ":", treePlain})
	for _, l := range lines {
		tw.line(treePart{strings.TrimRight(indent+"  "+l, " "), treePlain})
	}
}

// treeLines splits a span's input or output into lines for display:
// chat messages one per line with their role, other JSON indented, text
// as it is. Tabs become spaces; every other control character is escaped
// when the line is written.
func treeLines(v string) []string {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	var text string
	if msgs, ok := treeChatMessages(v); ok {
		var b strings.Builder
		for i, m := range msgs {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(m.Role + ": " + strings.ReplaceAll(strings.TrimRight(strings.ReplaceAll(m.Content, "\r\n", "\n"), "\n"), "\n", "\n    "))
		}
		text = b.String()
	} else if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(t), "", "  ") == nil {
			text = buf.String()
		}
	}
	if text == "" {
		text = v
	}
	text = strings.ReplaceAll(text, "\t", "    ")
	return strings.Split(strings.TrimRight(text, "\n"), "\n")
}

type treeChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// treeChatMessages decodes v as a list of chat messages with text content.
func treeChatMessages(v string) ([]treeChatMessage, bool) {
	t := strings.TrimSpace(v)
	if !strings.HasPrefix(t, "[") {
		return nil, false
	}
	var raw []map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &raw) != nil || len(raw) == 0 {
		return nil, false
	}
	msgs := make([]treeChatMessage, len(raw))
	for i, m := range raw {
		if json.Unmarshal(m["role"], &msgs[i].Role) != nil || msgs[i].Role == "" ||
			json.Unmarshal(m["content"], &msgs[i].Content) != nil {
			return nil, false
		}
	}
	return msgs, true
}

// treeSpanDetails are the facts printed after a span's status: for model
// calls the model, tokens, cost, retries and cache hits; for judges the
// judge type, score, pass and label.
func treeSpanDetails(s *traces.Span, label string) []string {
	a := s.Attributes
	var out []string
	switch s.Kind {
	case traces.KindLLM:
		if m := treeAttrString(a, "model"); m != "" {
			out = append(out, m)
		}
		p, okP := treeAttrFloat(a, "prompt_tokens")
		c, okC := treeAttrFloat(a, "completion_tokens")
		if okP || okC {
			est := ""
			if b, _ := a["tokens_estimated"].(bool); b {
				est = "~"
			}
			out = append(out, fmt.Sprintf("tokens %s%s→%s", est, treeCount(p), treeCount(c)))
		}
		if x, ok := treeAttrFloat(a, "cost_usd"); ok && x != 0 {
			out = append(out, treeUSD(x))
		}
		if x, ok := treeAttrFloat(a, "retries"); ok && x > 0 {
			out = append(out, "retries "+treeCount(x))
		}
		if treeAttrString(a, "cache") == "hit" {
			out = append(out, "cache hit")
		}
	case traces.KindJudge:
		if jt := treeAttrString(a, "judge_type"); jt != "" {
			out = append(out, jt)
		}
		if x, ok := treeAttrFloat(a, "score"); ok {
			out = append(out, "score "+strconv.FormatFloat(x, 'g', 3, 64))
		}
		if p, ok := a["pass"].(bool); ok {
			if p {
				out = append(out, "pass")
			} else {
				out = append(out, "fail")
			}
		}
		if l := treeAttrString(a, "label"); l != "" {
			label = l
		}
		if label != "" {
			out = append(out, "label "+label)
		}
	}
	return out
}

// treeAttrString returns a string attribute ("" when absent or not a string).
func treeAttrString(a map[string]any, key string) string {
	s, _ := a[key].(string)
	return s
}

// treeAttrFloat returns a numeric attribute (JSON numbers decode as float64).
func treeAttrFloat(a map[string]any, key string) (float64, bool) {
	x, ok := a[key].(float64)
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func treeCount(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// treeUSD shows a cost with up to six decimals, trailing zeros trimmed.
func treeUSD(x float64) string {
	s := strings.TrimRight(strings.TrimRight(strconv.FormatFloat(x, 'f', 6, 64), "0"), ".")
	if s == "0" || s == "-0" {
		return "$<0.000001"
	}
	return "$" + s
}

// treeDuration shows a span's duration in µs, ms or s.
func treeDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0µs"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	default:
		m := int(d / time.Minute)
		return fmt.Sprintf("%dm%02ds", m, int((d-time.Duration(m)*time.Minute)/time.Second))
	}
}
