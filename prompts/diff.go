package prompts

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// Diff is how two prompt versions differ: per section (the text, each
// chat message, the model config), unified hunks of lines, and for each
// changed line paired with its replacement, which words changed.
type Diff struct {
	// From and To are the versions compared (NAME@VERSION), with their
	// content hashes.
	From     string `json:"from"`
	To       string `json:"to"`
	FromHash string `json:"from_hash"`
	ToHash   string `json:"to_hash"`
	// Sections are the parts that differ, in order; none when the
	// versions have the same content.
	Sections []DiffSection `json:"sections"`
}

// DiffSection is one part of the two versions that differs.
type DiffSection struct {
	// Name says which part: "text", "message 2 (user)", "config".
	Name string `json:"name"`
	// Note says how the part differs when no line does: only its role,
	// or only a final newline.
	Note  string     `json:"note,omitempty"`
	Hunks []DiffHunk `json:"hunks"`
}

// DiffHunk is a run of changed lines with their context, as in a unified
// diff: it starts at line FromLine of the old part (FromCount lines) and
// line ToLine of the new one (ToCount lines).
type DiffHunk struct {
	FromLine  int        `json:"from_line"`
	FromCount int        `json:"from_count"`
	ToLine    int        `json:"to_line"`
	ToCount   int        `json:"to_count"`
	Lines     []DiffLine `json:"lines"`
}

// Change is the kind of a line or a word of a diff.
type Change int

// The kinds of lines and words.
const (
	Same Change = iota
	Removed
	Added
)

// DiffLine is one line of a hunk, without its newline.
type DiffLine struct {
	Kind Change `json:"kind"`
	Text string `json:"text"`
	// Words is set on an added line that replaces a removed one: the
	// words of the pair, each same, removed or added.
	Words []WordChange `json:"words,omitempty"`

	pair int // the index in the hunk of the removed line Words pairs with
}

// WordChange is a run of text of a changed line pair.
type WordChange struct {
	Kind Change `json:"kind"`
	Text string `json:"text"`
}

// Empty reports whether the versions have the same content.
func (d *Diff) Empty() bool { return len(d.Sections) == 0 }

// diffContext is the number of unchanged lines shown around changes.
const diffContext = 3

// Compare returns how b differs from a: their texts (per message for chat
// prompts; a text prompt compares as one user message with a chat prompt)
// and their model configs (model, provider and each param on a line).
func Compare(a, b *Resolved) *Diff {
	d := &Diff{From: a.Ref(), To: b.Ref(), FromHash: a.Hash, ToHash: b.Hash}
	add := func(name, x, y string) {
		if hunks := lineDiff(x, y); len(hunks) > 0 {
			d.Sections = append(d.Sections, DiffSection{Name: name, Hunks: hunks})
		} else if x != y {
			d.Sections = append(d.Sections, DiffSection{Name: name, Note: "only the final newline differs"})
		}
	}
	if a.Messages == nil && b.Messages == nil {
		add("text", a.Text, b.Text)
	} else {
		ma, mb := a.ChatMessages(), b.ChatMessages()
		for i := 0; i < max(len(ma), len(mb)); i++ {
			var x, y Message
			if i < len(ma) {
				x = ma[i]
			}
			if i < len(mb) {
				y = mb[i]
			}
			role := x.Role
			switch {
			case x.Role == "":
				role = y.Role
			case y.Role != "" && y.Role != x.Role:
				role = x.Role + " -> " + y.Role
			}
			name := fmt.Sprintf("message %d (%s)", i+1, role)
			if x.Role != y.Role && x.Content == y.Content {
				d.Sections = append(d.Sections, DiffSection{Name: name, Note: "only the role differs"})
				continue
			}
			add(name, x.Content, y.Content)
		}
	}
	add("config", configLines(a), configLines(b))
	return d
}

// configLines writes a version's model config one field per line, params
// sorted, values as JSON: the config it comes from first, when it comes
// from the registry.
func configLines(r *Resolved) string {
	from := ""
	if r.ConfigResolved != nil {
		from = "from: " + r.ConfigResolved.Ref()
	}
	return configText(from, r.Config)
}

// configText writes head (when not "") on a line, then the model,
// provider and each param of c on a line, params sorted, values as JSON.
func configText(head string, c *Config) string {
	var b strings.Builder
	if head != "" {
		b.WriteString(head + "\n")
	}
	if c == nil {
		return b.String()
	}
	if c.Model != "" {
		fmt.Fprintf(&b, "model: %s\n", c.Model)
	}
	if c.Provider != "" {
		fmt.Fprintf(&b, "provider: %s\n", c.Provider)
	}
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "params.%s: %s\n", k, canonicalJSON(c.Params[k]))
	}
	return b.String()
}

// CompareConfigs returns how model config version b differs from a: the
// version each extends (resolved), then the model, provider and each
// param in effect on a line, in one section named "config", with word
// changes on replaced lines as Compare has them.
func CompareConfigs(a, b *ResolvedConfig) *Diff {
	d := &Diff{From: a.Ref(), To: b.Ref(), FromHash: a.Hash, ToHash: b.Hash}
	x, y := configText(extendsLine(a), a.Config), configText(extendsLine(b), b.Config)
	if hunks := lineDiff(x, y); len(hunks) > 0 {
		d.Sections = append(d.Sections, DiffSection{Name: "config", Hunks: hunks})
	}
	return d
}

func extendsLine(r *ResolvedConfig) string {
	if r.Extends == "" {
		return ""
	}
	return "extends: " + r.Extends
}

// lineDiff returns the hunks of a line diff of x and y (each read as
// lines ending in a newline), with word changes on replaced lines.
func lineDiff(x, y string) []DiffHunk {
	if x == y {
		return nil
	}
	if x != "" && !strings.HasSuffix(x, "\n") {
		x += "\n"
	}
	if y != "" && !strings.HasSuffix(y, "\n") {
		y += "\n"
	}
	u, err := udiff.ToUnifiedDiff("a", "b", x, udiff.Lines(x, y), diffContext)
	if err != nil {
		// The edits come from udiff.Lines over the same text: cannot happen.
		panic("prompts: diff: " + err.Error())
	}
	var out []DiffHunk
	for _, h := range u.Hunks {
		dh := DiffHunk{FromLine: h.FromLine, ToLine: h.ToLine}
		for _, l := range h.Lines {
			line := DiffLine{Text: strings.TrimSuffix(l.Content, "\n")}
			switch l.Kind {
			case udiff.Delete:
				line.Kind = Removed
				dh.FromCount++
			case udiff.Insert:
				line.Kind = Added
				dh.ToCount++
			default:
				dh.FromCount++
				dh.ToCount++
			}
			dh.Lines = append(dh.Lines, line)
		}
		pairWords(dh.Lines)
		out = append(out, dh)
	}
	return out
}

// pairWords sets the word changes of the added lines that replace a
// removed line: in each run of removed then added lines, each added line
// is paired, in order, with the next removed line that shares most of its
// words (at least half of the pair's text kept).
func pairWords(lines []DiffLine) {
	for i := 0; i < len(lines); {
		if lines[i].Kind != Removed {
			i++
			continue
		}
		j := i
		for j < len(lines) && lines[j].Kind == Removed {
			j++
		}
		k := j
		for k < len(lines) && lines[k].Kind == Added {
			k++
		}
		next := i
		for a := j; a < k && next < j; a++ {
			best, bestScore := -1, 0.5
			var bestWords []WordChange
			for r := next; r < j; r++ {
				ws := wordDiff(lines[r].Text, lines[a].Text)
				if score := kept(ws); score >= bestScore {
					best, bestScore, bestWords = r, score, ws
				}
				if bestScore == 1 {
					break
				}
			}
			if best >= 0 {
				lines[a].Words, lines[a].pair = bestWords, best
				next = best + 1
			}
		}
		i = k
	}
}

// kept scores how much of a pair's text, not counting spaces, the words
// keep: kept / (kept + the larger of removed and added), from 0 to 1.
func kept(ws []WordChange) float64 {
	var same, removed, added int
	for _, w := range ws {
		n := len(strings.Join(strings.Fields(w.Text), ""))
		switch w.Kind {
		case Same:
			same += n
		case Removed:
			removed += n
		case Added:
			added += n
		}
	}
	if same == 0 {
		return 0
	}
	return float64(same) / float64(same+max(removed, added))
}

// wordToken splits a line into words, runs of spaces, and single other
// characters (punctuation, template delimiters).
var wordToken = regexp.MustCompile(`[\p{L}\p{N}_]+|\s+|.`)

// wordDiff returns the word-level changes from x to y: go-diff over the
// lines' words, each word mapped to one rune.
func wordDiff(x, y string) []WordChange {
	index := map[string]rune{}
	var words []string
	encode := func(s string) []rune {
		toks := wordToken.FindAllString(s, -1)
		out := make([]rune, len(toks))
		for i, t := range toks {
			r, ok := index[t]
			if !ok {
				r = tokenRune(len(words))
				index[t] = r
				words = append(words, t)
			}
			out[i] = r
		}
		return out
	}
	rx, ry := encode(x), encode(y)
	dmp := diffmatchpatch.New()
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMainRunes(rx, ry, false))
	var out []WordChange
	for _, d := range diffs {
		var b strings.Builder
		for _, r := range d.Text {
			b.WriteString(words[runeToken(r)])
		}
		kind := Same
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = Removed
		case diffmatchpatch.DiffInsert:
			kind = Added
		}
		if n := len(out); n > 0 && out[n-1].Kind == kind {
			out[n-1].Text += b.String()
			continue
		}
		out = append(out, WordChange{Kind: kind, Text: b.String()})
	}
	return out
}

// tokenRune maps a word's index to a rune that survives a string: valid,
// never a surrogate.
func tokenRune(i int) rune {
	r := rune(i) + 1
	if r >= 0xD800 {
		r += 0x800
	}
	return r
}

func runeToken(r rune) int {
	if r >= 0xD800+0x800 {
		r -= 0x800
	}
	return int(r) - 1
}

// String renders the diff as a unified diff, one file header per
// section; after each run of replaced lines, a line starting with "~"
// shows each pair's words as git diff --word-diff=plain does:
// [-removed-]{+added+}. "" when the versions have the same content.
func (d *Diff) String() string { return d.render(false) }

// WordDiff renders the diff as git diff --word-diff=plain does: context
// lines as they are, a replaced line once with [-removed-]{+added+}
// words, a line only removed as [-line-], only added as {+line+}.
func (d *Diff) WordDiff() string { return d.render(true) }

func (d *Diff) render(words bool) string {
	if d.Empty() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "diff %s %s\n", d.From, d.To)
	fmt.Fprintf(&b, "hash %s -> %s\n", d.FromHash, d.ToHash)
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "--- %s %s\n+++ %s %s\n", d.From, s.Name, d.To, s.Name)
		if s.Note != "" {
			b.WriteString("(" + s.Note + ")\n")
		}
		for _, h := range s.Hunks {
			fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(h.FromLine, h.FromCount), hunkRange(h.ToLine, h.ToCount))
			if words {
				renderWords(&b, h.Lines)
			} else {
				renderUnified(&b, h.Lines)
			}
		}
	}
	return b.String()
}

// hunkRange writes a hunk's start and count as unified diffs do.
func hunkRange(start, count int) string {
	switch {
	case count == 0:
		return fmt.Sprintf("%d,0", max(start-1, 0))
	case count == 1:
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

func renderUnified(b *strings.Builder, lines []DiffLine) {
	var pending []string
	flush := func() {
		for _, p := range pending {
			b.WriteString("~ " + p + "\n")
		}
		pending = pending[:0]
	}
	for _, l := range lines {
		if l.Kind != Added && len(pending) > 0 {
			flush()
		}
		switch l.Kind {
		case Same:
			b.WriteString(" " + l.Text + "\n")
		case Removed:
			b.WriteString("-" + l.Text + "\n")
		case Added:
			b.WriteString("+" + l.Text + "\n")
			if l.Words != nil {
				pending = append(pending, plainWords(l.Words))
			}
		}
	}
	flush()
}

func renderWords(b *strings.Builder, lines []DiffLine) {
	// Removed lines that an added line replaces are shown with it.
	replaced := map[int]bool{}
	for _, l := range lines {
		if l.Words != nil {
			replaced[l.pair] = true
		}
	}
	for i, l := range lines {
		switch {
		case l.Kind == Same:
			b.WriteString(l.Text + "\n")
		case l.Kind == Removed && !replaced[i]:
			b.WriteString("[-" + l.Text + "-]\n")
		case l.Kind == Added && l.Words != nil:
			b.WriteString(plainWords(l.Words) + "\n")
		case l.Kind == Added:
			b.WriteString("{+" + l.Text + "+}\n")
		}
	}
}

// plainWords writes word changes as git's --word-diff=plain.
func plainWords(ws []WordChange) string {
	var b strings.Builder
	for _, w := range ws {
		switch w.Kind {
		case Same:
			b.WriteString(w.Text)
		case Removed:
			b.WriteString("[-" + w.Text + "-]")
		case Added:
			b.WriteString("{+" + w.Text + "+}")
		}
	}
	return b.String()
}

// MarshalJSON writes a change as "same", "removed" or "added".
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.String())
}

// String names the change: same, removed or added.
func (c Change) String() string {
	switch c {
	case Removed:
		return "removed"
	case Added:
		return "added"
	}
	return "same"
}
