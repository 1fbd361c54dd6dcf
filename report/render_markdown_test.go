package report

import (
	"bytes"
	"html"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// gfm renders Markdown as GitHub does: CommonMark with tables,
// strikethrough and bare URLs made links. Raw HTML is let through (the
// renderer's "unsafe" mode), so a test sees any that the Markdown holds.
func gfm(t *testing.T, md string) string {
	t.Helper()
	var buf bytes.Buffer
	g := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := g.Convert([]byte(md), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	reTag  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>`)
	reCell = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	reRow  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	// reWebLink matches the tags of a link to an http(s) address.
	reWebLink = regexp.MustCompile(`<a href="https?://[^"]*">|</a>`)
)

// cellText renders s as the one cell of a one-column table and returns
// the cell's content as HTML.
func cellText(t *testing.T, s string) string {
	t.Helper()
	out := gfm(t, "| h |\n| --- |\n| "+s+" |\n")
	cells := reCell.FindAllStringSubmatch(out, -1)
	if len(cells) != 2 {
		t.Fatalf("table of %q renders %d cells, want 2:\n%s", s, len(cells), out)
	}
	return cells[1][1]
}

func TestMDEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// What gavel itself writes reads as it is.
		{"plain text 1.5", "plain text 1.5"},
		{"correct: min_pass_rate 0.8", "correct: min_pass_rate 0.8"},
		{"[79.8%, 99.3%]", "[79.8%, 99.3%]"},
		{"<0.0001", "<0.0001"},
		{"a < b > c & d", "a < b > c & d"},
		{`"quoted" 'single'`, `"quoted" 'single'`},
		// Markdown syntax in untrusted text is escaped with backslashes.
		{"a|b", `a\|b`},
		{"<b>&amp;</b>", `\<b>\&amp;\</b>`},
		{"<!-- c --> <?php <![CDATA[", `\<!-- c --> \<?php \<![CDATA[`},
		{"x\n\ny", "x y"},
		{"`*_[]\\~$", "\\`\\*\\_[]\\\\\\~\\$"},
		{"[link](javascript:alert(3)) ![i](x) [r][1]", `[link\](javascript:alert(3)) ![i\](x) [r\][1]`},
		{"__init__ _it_ snake_case", `\_\_init\_\_ \_it\_ snake_case`},
		{"tab\there\x00null", `tab here\u0000null`},
		{`ends with \`, `ends with \\`},
		{"&copy; &#x3c; a&b;", `\&copy; \&#x3c; a\&b;`},
		{"heading #", `heading \#`},
		// Mentions and issue references are broken with a zero-width space.
		{"@user #12 #x", "@\u200buser #\u200b12 #x"},
	} {
		if got := mdEscape(c.in); got != c.want {
			t.Errorf("mdEscape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestMDEscapeRendersAsText renders escaped strings in a table cell with a
// GitHub-flavoured Markdown renderer: each must come out as exactly its
// text, with no markup of any kind.
func TestMDEscapeRendersAsText(t *testing.T) {
	inputs := []string{hostileScript, hostileDetails, hostilePipe, hostileNewline, hostileTicks, hostileANSI,
		"<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "![x](http://e/x.png)", "<http://e.com>",
		"**b** __b__ *i* _i_ ~~s~~ ~s~", `\*not\* \\`, "&lt;script&gt; &amp; &#x3c;", "a_b_c *a*b* 2*3*4",
		"x<y z>w", "[a]: http://e.com", "| cell |", `\|`, "$$x$$", "<details><summary>x</summary>",
	}
	// And random strings of Markdown's syntax characters.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("\\`*_[]()<>|#~$!&;:/@-+=.\"' abc1\n")
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		esc := mdEscape(in)
		// A bare web address becomes a link on GitHub too: that is not
		// markup the text brought in.
		cell := reWebLink.ReplaceAllString(cellText(t, esc), "")
		if m := reTag.FindString(cell); m != "" {
			t.Errorf("mdEscape(%q) = %q renders with the tag %s: %s", in, esc, m, cell)
			continue
		}
		got := strings.ReplaceAll(html.UnescapeString(cell), "\u200b", "")
		if want := textSafe(oneLine(in)); got != want {
			t.Errorf("mdEscape(%q) = %q renders as %q, want the text %q", in, esc, got, want)
		}
	}
}

// TestMDSummaryRendersAsText checks the escaping of text inside the
// report's <details><summary> lines, which are raw HTML.
func TestMDSummaryRendersAsText(t *testing.T) {
	for _, in := range []string{hostileScript, hostileDetails, "min_pass_rate & *x*", "@user #1", "a\nb"} {
		out := gfm(t, "<details><summary>"+mdHTML(in)+"</summary>\n\n</details>\n")
		m := regexp.MustCompile(`(?s)<summary>(.*?)</summary>`).FindStringSubmatch(out)
		if m == nil || reTag.MatchString(m[1]) {
			t.Errorf("mdHTML(%q) breaks the summary: %s", in, out)
			continue
		}
		if got := strings.ReplaceAll(html.UnescapeString(m[1]), "\u200b", ""); got != textSafe(oneLine(in)) {
			t.Errorf("mdHTML(%q) renders as %q", in, got)
		}
	}
	if got := mdHTML("judge min_pass_rate [1, 2]"); got != "judge min_pass_rate [1, 2]" {
		t.Errorf("mdHTML escapes plain text: %q", got)
	}
}

// TestRenderMarkdownEscapesUntrustedText renders the whole report as
// GitHub would and checks that no untrusted text became markup.
func TestRenderMarkdownEscapesUntrustedText(t *testing.T) {
	md := render(t, fixtureReport(), FormatMarkdown, RenderOptions{})
	for _, bad := range []string{"&#", "\x1b", "\u202e", "\r"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown holds %q", bad)
		}
	}
	// It reads plainly as raw text.
	for _, want := range []string{"correct: min_pass_rate 0.8", "[75.2%, 86.1%]", "| <0.0001 |", "corpus bleu (corpus_bleu)",
		`\<script>alert(1)\</script>`, `a \| pipe \| b`, "line one line two", "wilcoxon_signed_rank"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	out := gfm(t, md)
	// The only tags are those of the layout gavel writes: no link, image,
	// script, emphasis, code or strikethrough from a model output.
	allowed := map[string]bool{"h3": true, "h4": true, "p": true, "table": true, "thead": true, "tbody": true, "tr": true,
		"th": true, "td": true, "ul": true, "li": true, "details": true, "summary": true, "strong": true}
	for _, m := range reTag.FindAllStringSubmatch(out, -1) {
		if !allowed[strings.ToLower(m[2])] {
			t.Errorf("rendered markdown has the tag %s", m[0])
		}
	}
	if n := strings.Count(out, "<strong>"); n != 1 {
		t.Errorf("%d bold spans, want 1 (the failed gate)", n)
	}
	if o, c := strings.Count(out, "<details>"), strings.Count(out, "</details>"); o != 2 || c != 2 {
		t.Errorf("%d <details> and %d </details>, want 2 and 2", o, c)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;/details&gt;&lt;img src=x onerror=alert(2)&gt;",
		"``` rm -rf / `code` *bold* _it_ [link](javascript:alert(3))", "a | pipe | b"} {
		if !strings.Contains(strings.ReplaceAll(out, "\u200b", ""), want) {
			t.Errorf("rendered markdown lacks the text %q", want)
		}
	}
	// Every table row has as many cells as its header: no cell was split
	// by a pipe or a newline.
	for _, table := range regexp.MustCompile(`(?s)<table>.*?</table>`).FindAllString(out, -1) {
		rows := reRow.FindAllStringSubmatch(table, -1)
		for i, r := range rows {
			if n, want := len(reCell.FindAllString(r[1], -1)), len(reCell.FindAllString(rows[0][1], -1)); n != want {
				t.Errorf("table row %d has %d cells, its header %d: %s", i, n, want, r[0])
			}
		}
	}
	// Headline first: gates and verdict counts.
	first, _, _ := strings.Cut(md, "\n")
	if want := "### ❌ 1 of 2 gates failed · 1 improved, 1 regressed, 1 no significant difference"; first != want {
		t.Errorf("headline = %q, want %q", first, want)
	}
}
