package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The page's markup, script and style, embedded in the binary: the HTML
// report needs no network and no files beside it.
//
// The script is ui/js/*.js and the style ui/css/*.css, each joined in
// file-name order: one concern a file, one inline script and one inline
// style in the page. The script's files share one strict-mode scope.
//
//go:embed ui/page.html ui/js/*.js ui/css/*.css
var uiFiles embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(uiFiles, "ui/page.html"))
	appJS        = "(() => {\n'use strict';\n" + joinFiles("ui/js/*.js") + "})();\n"
	appCSS       = joinFiles("ui/css/*.css")
)

// joinFiles concatenates the embedded files matching pattern in name
// order, each starting with a comment naming it.
func joinFiles(pattern string) string {
	names, err := fs.Glob(uiFiles, pattern)
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		data, err := uiFiles.ReadFile(n)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(&b, "/* %s */\n%s\n", path.Base(n), data)
	}
	return b.String()
}

// htmlRenderer writes the self-contained HTML report: the trace table, the
// timelines, the architecture and (for comparisons) the side-by-side view
// and charts, drawn by the embedded script from the embedded data.
type htmlRenderer struct{}

func (htmlRenderer) render(w io.Writer, r *Report, o RenderOptions) error {
	return WriteHTML(w, r, o.HTML)
}

// WriteHTML writes r as one self-contained HTML page. It reads the rows,
// scores and spans of r's variants from the run directories r.Runs name.
// Every string from a dataset, a model or an application is data to the
// page: it is escaped for the JSON-in-script context by html/template and
// set as text (never markup) by the script; a content security policy
// allows only the page's own script and style to run.
func WriteHTML(w io.Writer, r *Report, o HTMLOptions) error {
	doc, err := buildHTMLDoc(r, o)
	if err != nil {
		return err
	}
	return writePage(w, doc, o.Live)
}

// WriteHTMLIndex writes the viewer's home page: the runs it found, with
// links to each and a form to compare any two.
func WriteHTMLIndex(w io.Writer, entries []IndexEntry, o HTMLOptions) error {
	o.defaults()
	if entries == nil {
		entries = []IndexEntry{}
	}
	doc := &htmlDoc{Version: 1, Mode: "index", Title: "gavel · runs", Generator: o.Generator, Live: true,
		Sides: []htmlSide{}, Judges: []htmlJudge{}, Runs: []htmlRun{}, Chunks: []string{}, Index: entries,
		MaxText: o.MaxText}
	var err error
	if doc.Rows, err = packJSON([]htmlRow{}); err != nil {
		return err
	}
	return writePage(w, doc, true)
}

// CSP returns the content security policy of a page: only the embedded
// script and style (by hash) run; nothing is fetched, except, on the
// viewer's pages (live), the viewer's own URLs. Inline event handlers,
// injected scripts and remote resources are all blocked.
func CSP(live bool) string {
	self := "'none'"
	if live {
		self = "'self'"
	}
	return fmt.Sprintf("default-src 'none'; script-src %s; style-src %s; img-src data:; connect-src %s; form-action %s; base-uri 'none'",
		hashSource(appJS), hashSource(appCSS), self, self)
}

func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func writePage(w io.Writer, doc *htmlDoc, live bool) error {
	data := struct {
		CSP       string
		Title     string
		Generator string
		CSS       template.CSS
		JS        template.JS
		Doc       *htmlDoc
	}{CSP(live), doc.Title, doc.Generator, template.CSS(appCSS), template.JS(appJS), doc}
	if err := pageTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}
