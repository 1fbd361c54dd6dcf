package browsertest

import (
	"fmt"
	"strings"
	"testing"
)

// payloads are the hostile strings of testdata/hostile: each would set
// window.__gavelPwned if it ever ran.
var payloads = []string{
	"<script>window.__gavelPwned='script'</script>",
	`<img src=x onerror="window.__gavelPwned='img'">`,
	"</script><script>window.__gavelPwned='close'</script>",
	`"><svg onload="window.__gavelPwned='svg'">`,
	`<iframe srcdoc="<script>parent.__gavelPwned='iframe'</script>"></iframe>`,
	"javascript:window.__gavelPwned='href'",
}

// noInjectedMarkup fails when the page holds markup a payload could have
// made: an element with an event-handler attribute, a script, image or
// frame element beyond the page's own, or a javascript: link.
func (b *browser) noInjectedMarkup(where string) {
	b.t.Helper()
	handlers := evalJS[[]string](b, `[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)).map(a => e.tagName + ' ' + a.name))`)
	if len(handlers) > 0 {
		b.t.Errorf("%s: elements with event handler attributes: %v", where, handlers)
	}
	if n := b.count("script"); n != 2 {
		b.t.Errorf("%s: %d script elements, want the page's own 2", where, n)
	}
	if n := b.count("img, iframe, object, embed, frame"); n != 0 {
		b.t.Errorf("%s: %d img/iframe/object/embed elements", where, n)
	}
	if n := b.count(`[href^="javascript:" i], [src^="javascript:" i], [xlink\:href]`); n != 0 {
		b.t.Errorf("%s: %d javascript: links", where, n)
	}
	if n := b.count(`#main b`); n != 0 {
		b.t.Errorf("%s: the example id <b>x04</b> became a <b> element", where)
	}
}

// clickNth clicks the i-th element matching selector (in document order).
func (b *browser) clickNth(selector string, i int) {
	b.t.Helper()
	if !evalJS[bool](b, fmt.Sprintf(`(() => { const e = document.querySelectorAll(%q)[%d]; if (!e) return false; e.scrollIntoView(); e.click(); return true; })()`, selector, i)) {
		b.t.Fatalf("no element %d of %s", i, selector)
	}
}

// showsText fails unless the page's text under selector contains s.
func (b *browser) showsText(where, selector, s string) {
	b.t.Helper()
	got := evalJS[string](b, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ''}).textContent`, selector))
	if !strings.Contains(got, s) {
		b.t.Errorf("%s: %s does not show %q as text", where, selector, s)
	}
}

func TestPayloadsRenderAsTextInEveryView(t *testing.T) {
	f := getFixtures(t)
	for _, tc := range []struct{ name, url string }{{"report", f.hostileReport}, {"compare", f.hostileCompare}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t)
			b.open(tc.url)
			b.noInjectedMarkup("table")
			b.showsText("table", "#trace-table", "<b>x04</b>")
			// Every payload can be searched for and is shown as text in
			// the table and in its trace.
			for _, p := range payloads {
				b.setFilter("#filter-search", p)
				b.waitFor(`Number(document.querySelector('#row-count').dataset.count) > 0`)
				b.showsText("table", "#trace-table", p)
				b.click("#trace-table tr.row")
				b.waitFor(`document.querySelectorAll('#timeline .span').length > 0`)
				b.showsText("trace", "#detail", p)
				b.noInjectedMarkup("trace of " + p)
				// Every span, selected in turn: inputs and outputs hold the payload.
				n := b.count("#timeline .span")
				for i := range n {
					b.clickNth("#timeline .span", i)
				}
				b.noInjectedMarkup("spans of " + p)
				b.click("#detail-close")
				b.waitFor(`document.querySelector('#trace-table') !== null`)
			}
			b.setFilter("#filter-search", "")
			for _, view := range []string{"architecture", "charts"} {
				b.click(fmt.Sprintf(`#tabs button[data-view=%q]`, view))
				b.waitFor(fmt.Sprintf(`document.querySelector('#view-%s') !== null`, view))
				b.noInjectedMarkup(view)
			}
			if tc.name == "compare" {
				b.click(`#tabs button[data-view="compare"]`)
				b.waitFor(`document.querySelectorAll('#compare-list .compare-item').length > 0`)
				b.showsText("compare", "#compare-list", "<b>x04</b>")
				items := b.count("#compare-list .compare-item")
				for i := range items {
					b.click(`#tabs button[data-view="compare"]`)
					b.waitFor(`document.querySelectorAll('#compare-list .compare-item').length > 0`)
					b.clickNth("#compare-list .compare-item", i)
					b.waitFor(`document.querySelector('#side-by-side') !== null`)
					b.noInjectedMarkup(fmt.Sprintf("side by side %d", i))
				}
			}
			b.clean()
		})
	}
}
