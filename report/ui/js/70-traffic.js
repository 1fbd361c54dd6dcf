// Traffic: the traces an application sent (gavel collect, gavel import,
// observe). A trace table with filters (user, session, service, model,
// status, text), each trace's timeline by kind with its span details, and
// a dashboard of the traffic per hour or day — traces, error rate,
// tokens, cost, latency percentiles, score means — overall or by model,
// user, session or service. Figures come from doc.traffic, computed by
// gavel from the span files; nothing is recomputed here but filters.

function tf_data() { return doc.traffic || { summary: { table: [], judges: [] }, dashboards: {} }; }
function tf_sum() { return tf_data().summary || { table: [], judges: [] }; }
function tf_table() { return tf_sum().table || []; }
function tf_judges() { return tf_sum().judges || []; }

const tf_state = { user: '', session: '', service: '', model: '', status: '', q: '', per: 'hour', by: '' };

// tf_time formats an RFC 3339 time as "2026-11-20 14:03:07" (UTC).
function tf_time(s) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(s || '');
  return m ? m[1] + ' ' + m[2] : s || '–';
}

// tf_select is a labelled select of '' (all) and values.
function tf_select(id, label, values, cur, onChange) {
  const sel = el('select', { id, 'aria-label': label },
    el('option', { value: '' }, 'all'),
    values.map((v) => { const o = el('option', { value: v }, excerpt(v, 40)); if (v === cur) o.selected = true; return o; }));
  sel.addEventListener('change', () => onChange(sel.value));
  return el('label', { class: 'tb-field' }, el('span', null, label), sel);
}

// tf_matches applies the filters to one trace row.
function tf_matches(t) {
  const f = tf_state;
  if (f.user && t.user_id !== f.user) return false;
  if (f.session && t.session_id !== f.session) return false;
  if (f.service && t.service !== f.service) return false;
  if (f.model && t.model !== f.model) return false;
  if (f.status && t.status !== f.status) return false;
  if (f.q) {
    const hay = [t.trace_id, t.name, t.input, t.output, t.error, t.user_id, t.session_id].filter(Boolean).join('\n').toLowerCase();
    if (!f.q.split(/\s+/).every((w) => hay.includes(w))) return false;
  }
  return true;
}

function tf_values(key) {
  const seen = new Set();
  for (const t of tf_table()) if (t[key]) seen.add(t[key]);
  return [...seen].sort();
}

function tf_render(section) {
  const sum = tf_sum();
  const rows = tf_table();
  const judges = tf_judges();
  const count = el('span', { class: 'tb-count', id: 'traffic-count' });
  const search = el('input', { type: 'search', id: 'traffic-search', class: 'tb-search', placeholder: 'Search ids, names, inputs, outputs…',
    'aria-label': 'search traces', value: tf_state.q, autocomplete: 'off', spellcheck: 'false' });
  const body = el('tbody');
  const draw = () => {
    clear(body);
    let shown = 0;
    rows.forEach((t, i) => {
      if (!tf_matches(t)) return;
      shown++;
      body.appendChild(tf_row(t, i, judges));
    });
    if (!shown) body.appendChild(el('tr', null, el('td', { colspan: 12 + judges.length, class: 'empty' }, rows.length ? 'No trace matches the filters.' : 'No traces.')));
    count.dataset.count = String(shown);
    count.textContent = fmtNum(shown) + ' of ' + fmtNum(rows.length) + ' shown';
  };
  const set = (k) => (v) => { tf_state[k] = v; draw(); };
  search.addEventListener('input', () => { tf_state.q = search.value.trim().toLowerCase(); draw(); });
  const statusSel = el('select', { id: 'traffic-status', 'aria-label': 'status' },
    ['', 'ok', 'error'].map((v) => { const o = el('option', { value: v }, v || 'all'); if (v === tf_state.status) o.selected = true; return o; }));
  statusSel.addEventListener('change', () => { tf_state.status = statusSel.value; draw(); });

  const facts = [
    fmtNum(sum.traces) + ' traces' + (sum.traces !== sum.total ? ' of ' + fmtNum(sum.total) : ''),
    fmtNum(sum.spans) + ' spans in ' + fmtNum((sum.files || []).length) + ' files',
    sum.errors ? fmtNum(sum.errors) + ' with errors' : 'no errors',
    sum.first ? tf_time(sum.first) + ' to ' + tf_time(sum.last) + ' UTC' : '',
    judges.length ? fmtNum(sum.scored) + ' scored by ' + judges.join(', ') : '',
  ].filter(Boolean);
  section.appendChild(el('p', { class: 'tf-facts muted', id: 'traffic-facts' }, facts.join(' · ')));
  if (rows.length < sum.traces) {
    section.appendChild(el('p', { class: 'muted tf-note' }, 'The table holds the newest ' + fmtNum(rows.length) + ' of ' + fmtNum(sum.traces) +
      ' matching traces; the dashboard counts them all. Narrow them with gavel traces DIR --user, --session, --service or --model.'));
  }
  section.appendChild(el('div', { class: 'tb-toolbar' }, el('div', { class: 'tb-filters' },
    tf_select('traffic-user', 'user', tf_values('user_id'), tf_state.user, set('user')),
    tf_select('traffic-session', 'session', tf_values('session_id'), tf_state.session, set('session')),
    tf_select('traffic-service', 'service', tf_values('service'), tf_state.service, set('service')),
    tf_select('traffic-model', 'model', tf_values('model'), tf_state.model, set('model')),
    el('label', { class: 'tb-field' }, el('span', null, 'status'), statusSel),
    search), el('div', { class: 'tb-pager' }, count)));
  const head = el('tr', null, ['start (UTC)', 'trace', 'name', 'service', 'user', 'session', 'model'].map((h) => el('th', null, h)),
    ['spans', 'duration', 'tokens', 'cost'].map((h) => el('th', { class: 'num' }, h)), el('th', null, 'status'),
    judges.map((j) => el('th', { class: 'num' }, j)));
  section.appendChild(el('div', { class: 'tb-wrap' }, el('table', { class: 'tb-table', id: 'traffic-table' }, el('thead', null, head), body)));
  draw();
}

function tf_row(t, i, judges) {
  const failed = t.status === 'error';
  const open = () => go('ttrace', i);
  const tr = el('tr', { class: ['tf-row', failed && 'tf-failed'], 'data-trace': t.trace_id, tabindex: 0, title: t.error || '',
    on: { click: open, keydown: (ev) => { if (ev.key === 'Enter') open(); } } },
  el('td', { class: 'mono' }, tf_time(t.start)),
  el('td', { class: 'mono', title: t.trace_id }, (t.trace_id || '').slice(0, 12)),
  el('td', null, el('span', { class: ['tl-kind', kindClass(t.kind)] }, t.kind), ' ', excerpt(t.name, 40), t.root ? null : el('span', { class: 'muted', title: 'the root span was not collected' }, ' (no root)')),
  el('td', null, excerpt(t.service || '–', 24)),
  el('td', null, excerpt(t.user_id || '–', 24)),
  el('td', null, excerpt(t.session_id || '–', 24)),
  el('td', null, excerpt(t.model || '–', 28)),
  el('td', { class: 'num' }, fmtNum(t.spans)),
  el('td', { class: 'num' }, fmtMs(t.duration_ms)),
  el('td', { class: 'num' }, fmtNum(t.prompt_tokens) + '→' + fmtNum(t.completion_tokens)),
  el('td', { class: 'num' }, t.cost_usd ? fmtCost(t.cost_usd) : '–'),
  el('td', null, el('span', { class: ['badge', failed ? 'badge-error' : 'badge-ok'] }, t.status)),
  judges.map((j) => el('td', { class: 'num' }, t.scores && t.scores[j] !== undefined ? fmtNum(t.scores[j], 3) : '–')));
  return tr;
}

// tf_trace: one trace, its facts, its timeline and the selected span.
async function tf_trace(section, args) {
  const i = Number(args[0]);
  const t = tf_table()[i];
  const back = el('button', { type: 'button', id: 'detail-close', class: 'tl-back', title: 'Back to the traces (Esc)', on: { click: () => go('traffic') } }, '← back to traces');
  const detail = el('div', { id: 'detail', class: 'tl-detail' });
  section.appendChild(detail);
  if (!t) {
    detail.append(el('div', { class: 'tl-top' }, back), el('p', { class: 'empty' }, 'There is no trace ' + (args[0] || '') + ' in this page.'));
    return;
  }
  const failed = t.status === 'error';
  const facts = [['start', tf_time(t.start) + ' UTC'], ['duration', fmtMs(t.duration_ms)], ['service', t.service || '–'], ['user', t.user_id || '–'],
    ['session', t.session_id || '–'], ['model', t.model || '–'], ['tokens', fmtNum(t.prompt_tokens) + ' → ' + fmtNum(t.completion_tokens)],
    ['cost', t.cost_usd ? fmtCost(t.cost_usd) : '–']];
  for (const j of tf_judges()) if (t.scores && t.scores[j] !== undefined) facts.push([j, fmtNum(t.scores[j], 3)]);
  const timeline = el('div', { id: 'timeline', class: 'tl-timeline' }, el('p', { class: 'muted tl-loading' }, 'loading…'));
  const side = el('aside', { id: 'span-detail', class: 'tl-side', 'aria-live': 'polite' });
  append(detail, [
    el('div', { class: 'tl-header' }, el('div', { class: 'tl-top' }, back),
      el('div', { class: 'tl-title' }, el('h2', null, el('span', { class: 'tl-exid' }, t.name), el('span', { class: 'tl-epoch muted mono' }, t.trace_id)),
        el('span', { class: ['badge', failed ? 'badge-error' : 'badge-ok'] }, t.status)),
      el('dl', { class: 'tl-facts' }, facts.map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, v))))),
    failed && t.error ? el('div', { class: 'tl-error' }, el('strong', null, 'error '), t.error) : null,
    el('section', { class: 'tl-sec tl-trace' }, el('div', { class: 'tl-sec-head' }, el('h3', null, 'Trace')),
      el('div', { class: 'tl-split' }, el('div', { class: 'tl-main' }, timeline), side))]);
  let spans;
  try {
    spans = await loadSpans({ tr: t.trace_id, s: 0, c: tf_data().chunk });
  } catch (e) {
    clear(timeline).appendChild(el('p', { class: 'load-error' }, 'Could not load the trace: ' + (e && e.message ? e.message : String(e))));
    return;
  }
  if (!section.isConnected) return;
  clear(timeline);
  if (!spans.length) {
    timeline.appendChild(el('p', { class: 'empty' }, 'No spans of this trace are in the page.'));
    return;
  }
  const ordered = spanTree(spans.slice());
  const byId = new Map(ordered.map((s) => [s.id, s]));
  const first = byId.get(args[1]) || ordered.find((s) => s.st === 'error') || ordered[0];
  const show = (s) => { clear(side).appendChild(renderSpanDetail(s)); };
  timeline.appendChild(renderTimeline(spans, {
    selected: first.id,
    onSelect: (s) => { show(s); history.replaceState(null, '', hashOf('ttrace', i, s.id)); },
  }));
  show(first);
}

// ---------------------------------------------------------------- dashboard

const TF_METRICS = [
  { id: 'traces', title: 'Traces', fmt: (v) => fmtNum(v), get: (b) => b.traces },
  { id: 'errors', title: 'Error rate', fmt: (v) => fmtPct(v), get: (b) => b.error_rate },
  { id: 'tokens', title: 'Tokens (in + out)', fmt: (v) => ch_tokens(v), get: (b) => (b.prompt_tokens || 0) + (b.completion_tokens || 0) },
  { id: 'cost', title: 'Cost', fmt: (v) => ch_usd(v), get: (b) => b.cost_usd || 0 },
  { id: 'p50', title: 'Latency p50', fmt: (v) => fmtMs(v), get: (b) => b.p50_ms },
  { id: 'p95', title: 'Latency p95', fmt: (v) => fmtMs(v), get: (b) => b.p95_ms },
  { id: 'p99', title: 'Latency p99', fmt: (v) => fmtMs(v), get: (b) => b.p99_ms },
];

// tf_chart draws one metric over time, one line per series.
function tf_chart(d, m) {
  const series = d.series || [];
  const pts = [];
  for (const s of series) for (const b of s.buckets) { const v = m.get(b); if (ch_ok(v)) pts.push([Date.parse(b.start), v]); }
  if (!pts.length) return ch_card(m.title, null, ch_nodata('no ' + m.title.toLowerCase() + ' in these traces'));
  const step = d.per === 'day' ? 86400000 : 3600000;
  let lo = Math.min(...pts.map((p) => p[0])), hi = Math.max(...pts.map((p) => p[0]));
  if (hi <= lo) { lo -= step; hi += step; }
  const c = ch_frame({ title: m.title + ' per ' + d.per, legend: series.map((s, i) => ({ label: ch_label(s.group, 22), full: s.group, color: sideColor(i), kind: 'line' })) });
  const ys = ch_nice(0, Math.max(...pts.map((p) => p[1])));
  const y = ch_yAxis(c, { lo: ys.lo, hi: ys.hi, ticks: ys.ticks, fmt: m.fmt });
  const x = (t) => ch_c(c.L + ((t - lo) / (hi - lo)) * (c.R - c.L));
  c.axes.appendChild(svg('line', { x1: c.L, x2: c.R, y1: c.B, y2: c.B, class: 'ch-axis' }));
  const fmtT = (t) => { const s = new Date(t).toISOString(); return d.per === 'day' ? s.slice(5, 10) : s.slice(5, 10) + ' ' + s.slice(11, 16); };
  const n = Math.min(5, Math.max(2, Math.round((hi - lo) / step) + 1));
  for (let k = 0; k < n; k++) {
    const t = lo + (k * (hi - lo)) / (n - 1);
    c.axes.appendChild(svg('text', { x: x(t), y: c.B + 16, class: 'ch-tick ch-tick-x' }, fmtT(t)));
  }
  c.axes.appendChild(svg('text', { x: ch_c((c.L + c.R) / 2), y: c.H - 6, class: 'ch-axis-title' }, d.per + ' (UTC)'));
  series.forEach((s, i) => {
    const ps = s.buckets.map((b) => [Date.parse(b.start), m.get(b), b]).filter((p) => ch_ok(p[1]));
    if (ps.length > 1) {
      c.marks.appendChild(svg('polyline', { points: ps.map((p) => x(p[0]) + ',' + y(p[1])).join(' '), fill: 'none', stroke: sideColor(i), 'stroke-width': 2, class: 'tf-line' }));
    }
    for (const p of ps) {
      c.marks.appendChild(svg('circle', { cx: x(p[0]), cy: y(p[1]), r: 3, fill: sideColor(i), class: 'tf-point', 'data-metric': m.id },
        ch_tip(s.group + ' · ' + tf_time(p[2].start) + ' · ' + m.title + ' ' + m.fmt(p[1]) + ' · ' + fmtNum(p[2].traces) + ' traces')));
    }
  });
  return ch_card(m.title, 'per ' + d.per, c.root);
}

// tf_scoreChart draws the mean score of one judge over time.
function tf_scoreChart(d, judge) {
  return tf_chart(d, { id: 'score-' + judge, title: 'Mean ' + judge, fmt: (v) => fmtNum(v, 3), get: (b) => (b.scores && b.scores[judge] ? b.scores[judge].mean : NaN) });
}

// tf_bucketTable lists every bucket's figures: the numbers behind the charts.
function tf_bucketTable(d) {
  const judges = d.judges || [];
  const head = el('tr', null, el('th', null, d.by || 'group'), el('th', null, d.per + ' (UTC)'),
    ['traces', 'errors', 'tokens in', 'tokens out', 'cost', 'p50', 'p90', 'p95', 'p99'].map((h) => el('th', { class: 'num' }, h)),
    judges.map((j) => el('th', { class: 'num' }, j)));
  const body = el('tbody');
  for (const s of d.series || []) {
    for (const b of s.buckets) {
      body.appendChild(el('tr', { class: 'tf-bucket' }, el('td', { title: s.group }, excerpt(s.group, 40)), el('td', { class: 'mono' }, tf_time(b.start).slice(0, d.per === 'day' ? 10 : 16)),
        el('td', { class: 'num' }, fmtNum(b.traces)), el('td', { class: ['num', b.errors ? 'bad' : ''] }, fmtPct(b.error_rate)),
        el('td', { class: 'num' }, fmtNum(b.prompt_tokens)), el('td', { class: 'num' }, fmtNum(b.completion_tokens)),
        el('td', { class: 'num' }, b.cost_usd ? fmtCost(b.cost_usd) : '–'),
        [b.p50_ms, b.p90_ms, b.p95_ms, b.p99_ms].map((v) => el('td', { class: 'num' }, fmtMs(v))),
        judges.map((j) => el('td', { class: 'num', title: b.scores && b.scores[j] ? 'n = ' + b.scores[j].n : '' }, b.scores && b.scores[j] ? fmtNum(b.scores[j].mean, 3) : '–'))));
    }
  }
  return el('div', { class: 'tb-wrap' }, el('table', { class: 'tb-table', id: 'dashboard-table' }, el('thead', null, head), body));
}

function tf_dashboard(section) {
  const boards = tf_data().dashboards || {};
  const holder = el('div', { id: 'dashboard' });
  const mk = (id, label, opts, key) => {
    const sel = el('select', { id, 'aria-label': label }, opts.map(([v, t]) => { const o = el('option', { value: v }, t); if (v === tf_state[key]) o.selected = true; return o; }));
    sel.addEventListener('change', () => { tf_state[key] = sel.value; draw(); });
    return el('label', { class: 'tb-field' }, el('span', null, label), sel);
  };
  const draw = () => {
    clear(holder);
    const d = boards[tf_state.per + '/' + tf_state.by];
    if (!d || !(d.series || []).length) { holder.appendChild(ch_nodata('no traces')); return; }
    const cards = TF_METRICS.map((m) => tf_chart(d, m)).concat((d.judges || []).map((j) => tf_scoreChart(d, j)));
    holder.append(el('div', { class: 'ch-grid' }, cards), el('h3', { class: 'tf-h' }, 'Figures'), tf_bucketTable(d));
  };
  section.append(
    el('p', { class: 'muted tf-note' }, 'Every matching trace is counted, by the hour or day it started (UTC). Latency percentiles are of the traces\' durations (R\'s quantile type 7). A trace\'s model is the one with the most tokens. Past ' +
      '8 groups, the smaller ones are summed as (other).'),
    el('div', { class: 'tb-toolbar' }, el('div', { class: 'tb-filters' },
      mk('dashboard-per', 'per', [['hour', 'hour'], ['day', 'day']], 'per'),
      mk('dashboard-by', 'by', [['', 'all traffic'], ['model', 'model'], ['user', 'user'], ['session', 'session'], ['service', 'service']], 'by'))),
    holder);
  draw();
}

function tf_header() {
  const h = document.getElementById('header');
  if (!h || h.querySelector('.tf-dir')) return;
  h.appendChild(el('div', { class: 'runs tf-dir' }, el('strong', null, 'traffic'), ' · ', tf_data().dir || '',
    (tf_data().runs || []).length ? ' · scores from ' + tf_data().runs.join(', ') : ''));
}

registerView({ id: 'traffic', label: 'Traces', available: () => doc.mode === 'traffic', render: (s) => { tf_header(); tf_render(s); } });
registerView({ id: 'ttrace', label: 'Trace', tab: false, parent: 'traffic', available: () => doc.mode === 'traffic', render: (s, a) => { tf_header(); return tf_trace(s, a); } });
registerView({ id: 'dashboard', label: 'Dashboard', available: () => doc.mode === 'traffic', render: (s) => { tf_header(); tf_dashboard(s); } });

// Escape goes back to the traces.
document.addEventListener('keydown', (ev) => {
  if (!G.current || G.current.id !== 'ttrace' || ev.key !== 'Escape') return;
  const b = document.getElementById('detail-close');
  if (b) { ev.preventDefault(); b.click(); }
});
