// Core of gavel's report page: the document, DOM helpers, formatting,
// data loading, views and the hash router. Every other file registers
// views or helpers on top of this one. The files are joined in name order
// into one strict-mode function scope (see report/render_html.go).
//
// Untrusted text (anything from the document: ids, inputs, outputs,
// errors, reasons, names, spec text) reaches the DOM only as text nodes or
// plain attribute values through el() and svg(); nothing here parses
// HTML.

const doc = JSON.parse(document.getElementById('gavel-doc').textContent);

// G is the page's state, shared by every view.
const G = {
  doc,
  rows: [],          // decoded rows (see docs/html-report.md)
  rowsReady: null,   // Promise resolved when rows are decoded
  views: [],         // registered views, in tab order
  current: null,     // the view shown
  chunkCache: new Map(),
  traceCache: new Map(),
  sideColors: [],
};

// ---------------------------------------------------------------- DOM

// el creates an element. attrs: class, id, title, type, value, checked,
// disabled, hidden, href (internal links only), role, tabindex, aria-*,
// data-*, for, colspan, open, and `on: {event: fn}` for listeners.
// Children: strings and numbers become text nodes; arrays are flattened;
// null, undefined and false are skipped.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVGNS = 'http://www.w3.org/2000/svg';

// svg creates an SVG element, like el.
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    } else if (k === 'class') {
      node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v));
    } else if (k === 'value') {
      node.value = v;
    } else if (k === 'checked') {
      node.checked = !!v;
    } else if (k === 'href') {
      node.setAttribute('href', safeHref(String(v)));
    } else if (k === 'style' || k.startsWith('on')) {
      throw new Error('el: attribute ' + k + ' is not allowed (CSP); use classes or node.style');
    } else {
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

// safeHref allows only in-page (#...) and same-origin relative links.
function safeHref(h) {
  if (h.startsWith('#') || /^(\.\/|\.\.\/|\/(?!\/)|[a-z]+\?)/i.test(h) && !/^[a-z][a-z0-9+.-]*:/i.test(h)) return h;
  return '#';
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// ---------------------------------------------------------------- formatting

function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '–';
  if (ms < 1) return (ms * 1000).toFixed(0) + ' µs';
  if (ms < 1000) return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return Math.floor(ms / 60000) + ' m ' + Math.round((ms % 60000) / 1000) + ' s';
}

function fmtPct(x, digits = 1) {
  return x === null || x === undefined || !isFinite(x) ? '–' : (x * 100).toFixed(digits) + '%';
}

function fmtNum(x, digits = 3) {
  if (x === null || x === undefined || !isFinite(x)) return '–';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Number(x.toFixed(digits)).toString();
}

// fmtP formats a p-value: two significant digits, "< 0.001" below that.
function fmtP(p) {
  if (p === null || p === undefined || !isFinite(p)) return '–';
  if (p < 0.001) return '< 0.001';
  return Number(p.toPrecision(2)).toString();
}

function fmtCost(usd) {
  if (usd === null || usd === undefined) return 'unpriced';
  if (usd === 0) return '$0';
  if (usd < 0.01) return '$' + usd.toFixed(5);
  return '$' + usd.toFixed(usd < 1 ? 4 : 2);
}

function fmtInterval(ci, pct) {
  if (!ci || ci.lo === null || ci.hi === null || ci.lo === undefined) return '';
  const f = pct ? (x) => fmtPct(x) : (x) => fmtNum(x);
  return '[' + f(ci.lo) + ', ' + f(ci.hi) + ']';
}

// excerpt turns s into one line of at most n characters.
function excerpt(s, n = 120) {
  if (s === null || s === undefined) return '';
  s = String(s).replace(/\s+/g, ' ').trim();
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// prettyText pretty-prints JSON text and leaves other text as it is.
function prettyText(s) {
  if (typeof s !== 'string') return JSON.stringify(s, null, 2);
  const t = s.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try { return JSON.stringify(JSON.parse(t), null, 2); } catch (e) { /* not JSON */ }
  }
  return s;
}

// parseInput returns a row's input fields as an object (or null).
function parseInput(row) {
  if (row._input !== undefined) return row._input;
  try { row._input = JSON.parse(row.in); } catch (e) { row._input = null; }
  return row._input;
}

// inputExcerpt is a compact one-line view of a row's input fields.
function inputExcerpt(row, n = 100) {
  const o = parseInput(row);
  if (!o || typeof o !== 'object') return excerpt(row.in, n);
  const parts = [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'id') continue;
    parts.push(k + ': ' + (typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return excerpt(parts.join(' · '), n);
}

// ---------------------------------------------------------------- verdicts

// markOf returns row's verdict of judge index j, or null.
function markOf(row, j) { return row.j ? row.j[j] || null : null; }

// scoreOf returns a verdict's score as a number (pass as 1/0 when the judge
// has no scale), or null when there is none.
function scoreOf(mark) {
  if (!mark || mark.st !== 'ok') return null;
  if (mark.s !== null && mark.s !== undefined) return mark.s;
  if (mark.p !== null && mark.p !== undefined) return mark.p ? 1 : 0;
  return null;
}

// rowFailed: the chain failed, or some judge failed or could not judge.
function rowFailed(row) {
  if (row.st !== 'ok') return true;
  return (row.j || []).some((m) => m && (m.st === 'judge_error' || (m.st === 'ok' && m.p === false)));
}

// judgeGraded reports whether judge j gives scores other than 0 and 1.
function judgeGraded(j) {
  const name = doc.judges[j] && doc.judges[j].name;
  for (const v of (doc.report && doc.report.variants) || []) {
    for (const js of v.judges || []) if (js.judge === name && js.graded) return true;
  }
  return false;
}

// markView renders a verdict compactly: ✓/✗ with the score when graded,
// "err" for a judge error, "–" when skipped or missing.
function markView(mark, graded) {
  if (!mark) return el('span', { class: 'mark mark-none', title: 'no verdict' }, '–');
  if (mark.st === 'judge_error') return el('span', { class: 'mark mark-err', title: mark.e || 'judge error' }, 'err');
  if (mark.st !== 'ok') return el('span', { class: 'mark mark-none', title: mark.st }, '–');
  const s = scoreOf(mark);
  const pass = mark.p;
  const cls = pass === true ? 'mark-pass' : pass === false ? 'mark-fail' : 'mark-score';
  const sym = pass === true ? '✓' : pass === false ? '✗' : '';
  const txt = graded && s !== null ? (sym ? sym + ' ' : '') + fmtNum(s, 2) : sym || fmtNum(s, 2);
  return el('span', { class: ['mark', cls], title: mark.r || mark.l || '' }, txt);
}

// ---------------------------------------------------------------- sides

function sideName(i) { return doc.sides[i] ? doc.sides[i].name : String(i); }

function sideColor(i) {
  const palette = ['#2563eb', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#dc2626'];
  return palette[i % palette.length];
}

// sideIndex returns the index of the side named name, or -1.
function sideIndex(name) { return doc.sides.findIndex((s) => s.name === name); }

// ---------------------------------------------------------------- data

// unpack decodes base64(gzip(JSON)).
async function unpack(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text());
}

G.rowsReady = (async () => {
  G.rows = doc.rows ? await unpack(doc.rows) : [];
  G.rows.forEach((r, i) => { r._i = i; });
})();

// loadSpans returns the spans of row's trace (an array, start order).
async function loadSpans(row) {
  if (!row.tr) return [];
  if (G.traceCache.has(row.tr)) return G.traceCache.get(row.tr);
  let spans;
  if (doc.trace_url) {
    const side = doc.sides[row.s];
    const run = doc.runs[side.run];
    const url = doc.trace_url + '?run=' + encodeURIComponent(run.key || '') + '&trace=' + encodeURIComponent(row.tr);
    const resp = await fetch(url, { credentials: 'same-origin' });
    if (!resp.ok) throw new Error('loading trace ' + row.tr + ': HTTP ' + resp.status + ' ' + (await resp.text()));
    spans = await resp.json();
  } else {
    if (row.c === undefined || row.c < 0 || !doc.chunks[row.c]) return [];
    let chunk = G.chunkCache.get(row.c);
    if (!chunk) {
      chunk = unpack(doc.chunks[row.c]);
      G.chunkCache.set(row.c, chunk);
    }
    spans = (await chunk)[row.tr] || [];
  }
  G.traceCache.set(row.tr, spans);
  return spans;
}

const KINDS = ['chain', 'llm', 'tool', 'retriever', 'parser', 'template', 'judge', 'embedding', 'agent'];

// kindClass is the CSS class colouring a span kind (kind-other for kinds
// gavel does not know).
function kindClass(k) { return 'kind-' + (KINDS.includes(k) ? k : 'other'); }

// spanTree orders spans depth-first (roots by start, children by start
// under their parent) and sets each span's _depth. Spans whose parent is
// missing are roots.
function spanTree(spans) {
  const byId = new Map(spans.map((s) => [s.id, s]));
  const kids = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.p && byId.has(s.p)) {
      if (!kids.has(s.p)) kids.set(s.p, []);
      kids.get(s.p).push(s);
    } else roots.push(s);
  }
  const byStart = (a, b) => a.t - b.t || a.d - b.d;
  const out = [];
  const walk = (s, depth) => {
    s._depth = depth;
    out.push(s);
    (kids.get(s.id) || []).sort(byStart).forEach((c) => walk(c, depth + 1));
  };
  roots.sort(byStart).forEach((r) => walk(r, 0));
  return out;
}

// ---------------------------------------------------------------- views and routing

// registerView adds a tab. v: {id, label, available(): bool, render(main,
// args): void|Promise} where args are the hash's parts after the id
// ("#trace/12/abc" → view "trace", args ["12", "abc"]). A view with
// tab: false has no tab (opened by links).
function registerView(v) {
  G.views.push(Object.assign({ tab: true, available: () => true }, v));
}

// go navigates to a hash route, e.g. go('trace', 12).
function go(id, ...args) {
  const h = '#' + [id, ...args.map((a) => encodeURIComponent(String(a)))].join('/');
  if (location.hash === h) route(); else location.hash = h;
}

function hashOf(id, ...args) {
  return '#' + [id, ...args.map((a) => encodeURIComponent(String(a)))].join('/');
}

function currentRoute() {
  const parts = location.hash.replace(/^#/, '').split('/').filter((p) => p !== '').map((p) => {
    try { return decodeURIComponent(p); } catch (e) { return p; }
  });
  return parts;
}

async function route() {
  const parts = currentRoute();
  const usable = G.views.filter((v) => v.available());
  let view = usable.find((v) => v.id === parts[0]);
  if (!view) view = usable.find((v) => v.tab) || usable[0];
  if (!view) return;
  G.current = view;
  for (const b of document.querySelectorAll('#tabs button')) {
    const on = b.dataset.view === view.id || (!!view.parent && b.dataset.view === view.parent);
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.classList.toggle('active', on);
  }
  const main = document.getElementById('main');
  clear(main);
  const section = el('section', { id: 'view-' + view.id, class: 'view' });
  main.appendChild(section);
  try {
    await G.rowsReady;
    await view.render(section, parts.slice(1));
  } catch (e) {
    section.appendChild(el('p', { class: 'load-error' }, 'Could not draw this view: ' + (e && e.message ? e.message : String(e))));
    console.error(e);
  }
}

// ---------------------------------------------------------------- layout

function buildLayout() {
  const app = clear(document.getElementById('app'));
  const header = el('header', { id: 'header' });
  const nav = el('nav', { id: 'tabs', role: 'tablist', 'aria-label': 'Views' });
  for (const v of G.views) {
    if (!v.tab || !v.available()) continue;
    nav.appendChild(el('button', { type: 'button', role: 'tab', 'data-view': v.id, on: { click: () => go(v.id) } }, v.label));
  }
  app.append(header, nav, el('main', { id: 'main' }));
  renderHeader(header);
}

function renderHeader(header) {
  const rep = doc.report || {};
  const top = el('div', { class: 'header-top' },
    el('h1', null, doc.title || 'gavel'),
    doc.live && doc.mode !== 'index' ? el('a', { class: 'home', href: '/' }, '← all runs') : null,
    el('span', { class: 'generator' }, doc.generator || ''));
  header.appendChild(top);
  if (doc.mode === 'index' || doc.mode === 'traffic') return;
  const runs = el('div', { class: 'runs' });
  for (const r of rep.runs || []) {
    runs.appendChild(el('span', { class: ['run', 'status-' + r.status] },
      el('strong', null, r.run_id), ' ', r.name ? '(' + r.name + ')' : '', ' · ', r.status, ' · ', r.started_at,
      r.git_commit ? ' · git ' + r.git_commit.slice(0, 10) : ''));
  }
  header.appendChild(runs);
  const gates = rep.gates || [];
  if (gates.length) {
    const failed = gates.filter((g) => !g.passed);
    const box = el('div', { class: ['gates', failed.length ? 'gates-failed' : 'gates-passed'], id: 'gates' },
      el('strong', null, failed.length ? failed.length + ' of ' + gates.length + ' gates failed' : 'all ' + gates.length + ' gates passed'));
    const ul = el('ul');
    for (const g of gates) {
      ul.appendChild(el('li', { class: g.passed ? 'gate-pass' : 'gate-fail' },
        (g.passed ? '✓ ' : '✗ ') + g.gate + ' on ' + g.variant, g.passed ? '' : ': ' + g.detail));
    }
    box.appendChild(ul);
    header.appendChild(box);
  }
  if ((rep.warnings || []).length) {
    const w = el('details', { class: 'warnings', id: 'warnings' }, el('summary', null, rep.warnings.length + ' warning' + (rep.warnings.length > 1 ? 's' : '')));
    const ul = el('ul');
    rep.warnings.forEach((m) => ul.appendChild(el('li', null, m)));
    w.appendChild(ul);
    header.appendChild(w);
  }
  header.appendChild(summaryTable(rep));
  const notes = summaryNotes(rep);
  if (notes) header.appendChild(notes);
}

// summaryTable: one line per variant with its headline figures.
function summaryTable(rep) {
  const judges = doc.judges.map((j) => j.name);
  const head = el('tr', null, el('th', null, 'variant'), el('th', { class: 'num' }, 'results'), el('th', { class: 'num' }, 'errors'),
    judges.map((j) => el('th', { class: 'num' }, j)),
    el('th', { class: 'num' }, 'p50'), el('th', { class: 'num' }, 'p95'), el('th', { class: 'num' }, 'tokens'), el('th', { class: 'num' }, 'cost'),
    el('th', { class: 'num', title: 'tokens of the judges\' own model calls, in and out' }, 'judge tokens'),
    el('th', { class: 'num', title: 'what the judges\' own model calls cost' }, 'judge cost $'));
  const body = el('tbody');
  (rep.variants || []).forEach((v, i) => {
    const cells = judges.map((name) => {
      const js = (v.judges || []).find((x) => x.judge === name);
      if (!js) return el('td', { class: 'num' }, '–');
      const graded = js.graded && js.mean !== null;
      const main = graded ? fmtNum(js.mean) : fmtPct(js.pass_rate);
      const ci = graded ? fmtInterval(js.mean_ci, false) : fmtInterval(js.pass_rate_ci, true);
      return el('td', { class: 'num', title: (graded ? 'mean score ' : 'pass rate ') + ci + ' (95%)' }, main, el('span', { class: 'ci' }, ' ' + ci));
    });
    body.appendChild(el('tr', null,
      el('td', null, el('span', { class: 'swatch', 'data-side': i }), v.name),
      el('td', { class: 'num' }, fmtNum(v.results)),
      el('td', { class: ['num', v.errors ? 'bad' : ''] }, fmtNum(v.errors)),
      cells,
      el('td', { class: 'num' }, fmtMs(v.latency_p50_ms)), el('td', { class: 'num' }, fmtMs(v.latency_p95_ms)),
      el('td', { class: 'num' }, fmtNum(v.prompt_tokens) + '→' + fmtNum(v.completion_tokens)),
      el('td', { class: 'num', 'data-col': 'cost' }, fmtChainCost(v)),
      el('td', { class: 'num', 'data-col': 'judge-tokens', title: judgeTokensTitle(v) }, fmtJudgeTokens(v)),
      el('td', { class: 'num', 'data-col': 'judge-cost', title: judgeCostTitle(v) }, fmtJudgeCost(v))));
  });
  return el('table', { class: 'summary', id: 'summary' }, el('thead', null, head), body);
}

// summaryNotes: what a reader must know to read the summary table (how
// many results came from the cache), or null.
function summaryNotes(rep) {
  const notes = [];
  for (const v of rep.variants || []) {
    if (v.from_cache > 0) {
      notes.push(v.name + ': ' + v.from_cache + ' of ' + v.results + ' results from the cache; their latency, tokens and cost are those of the original calls');
    }
  }
  if (!notes.length) return null;
  return el('ul', { class: 'summary-notes', id: 'summary-notes' }, notes.map((n) => el('li', null, n)));
}

// fmtChainCost: what a variant's chain calls cost; "n/a" when no result
// had a known price (as the other reports write it), else the sum of the
// priced ones, saying how many results it leaves out.
function fmtChainCost(v) {
  if (v.unpriced > 0 && v.unpriced >= v.results) return 'n/a';
  return fmtCost(v.cost_usd) + (v.unpriced ? ' (+' + v.unpriced + ' unpriced)' : '');
}

// fmtJudgeTokens: the tokens of a variant's judge model calls, in and out
// together, as the other reports write them; "-" when judges called no
// model.
function fmtJudgeTokens(v) {
  if (!(v.judge_calls > 0)) return '-';
  return fmtNum((v.judge_prompt_tokens || 0) + (v.judge_completion_tokens || 0));
}

// fmtJudgeCost: what a variant's judge model calls cost, in dollars with
// four decimals as the other reports write it; "n/a" when none had a
// known price, "-" when judges called no model; a partial sum says how
// many calls it leaves out.
function fmtJudgeCost(v) {
  const calls = v.judge_calls || 0;
  const unpriced = v.judge_unpriced || 0;
  if (!(calls > 0)) return '-';
  if (unpriced >= calls) return 'n/a';
  const cost = typeof v.judge_cost_usd === 'number' && isFinite(v.judge_cost_usd) ? v.judge_cost_usd : 0;
  return cost.toFixed(4) + (unpriced > 0 ? ' (+' + unpriced + ' unpriced)' : '');
}

function judgeTokensTitle(v) {
  if (!(v.judge_calls > 0)) return 'the judges called no model';
  return fmtNum(v.judge_prompt_tokens || 0) + ' prompt + ' + fmtNum(v.judge_completion_tokens || 0) + ' completion tokens over ' +
    fmtNum(v.judge_calls) + ' judge model calls';
}

function judgeCostTitle(v) {
  if (!(v.judge_calls > 0)) return 'the judges called no model';
  const unpriced = v.judge_unpriced || 0;
  return fmtNum(v.judge_calls) + ' judge model calls' + (unpriced ? ', ' + fmtNum(unpriced) + ' with no known price (not in the sum)' : '');
}

// colourSwatches sets each side's colour on its swatches (CSSOM: allowed
// by the page's CSP, unlike style attributes).
function colourSwatches(root) {
  for (const s of root.querySelectorAll('[data-side]')) {
    if (s.classList.contains('swatch')) s.style.background = sideColor(Number(s.dataset.side));
  }
}

// start draws the page once every file has registered its views.
function start() {
  buildLayout();
  colourSwatches(document);
  window.addEventListener('hashchange', () => route().then(() => colourSwatches(document)));
  route().then(() => colourSwatches(document));
}
