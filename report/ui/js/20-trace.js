// Trace view: one result in full (input, output, expected, the judges'
// verdicts) and its trace as a waterfall, with the selected span's input,
// output and metadata beside it. renderTimeline, renderSpanDetail and
// renderMarks are shared with the compare view.

registerView({
  id: 'trace',
  label: 'Trace',
  tab: false,
  parent: 'table',
  available: () => doc.mode !== 'index' && doc.mode !== 'traffic',
  render: tl_render,
});

// Escape goes back to the table; [ and ] open the previous and next row.
document.addEventListener('keydown', (ev) => {
  if (!G.current || G.current.id !== 'trace' || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const t = ev.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
  const id = ev.key === 'Escape' ? 'detail-close' : ev.key === '[' ? 'detail-prev' : ev.key === ']' ? 'detail-next' : null;
  const b = id && document.getElementById(id);
  if (b && !b.disabled) { ev.preventDefault(); b.click(); }
});

async function tl_render(section, args) {
  const idx = Number(args[0]);
  const row = args[0] !== undefined && Number.isInteger(idx) ? G.rows[idx] : undefined;
  const back = el('button', { type: 'button', id: 'detail-close', class: 'tl-back', title: 'Back to the table (Esc)', on: { click: () => go('table') } }, '← back to traces');
  const detail = el('div', { id: 'detail', class: 'tl-detail' });
  section.appendChild(detail);
  if (!row) {
    detail.append(el('div', { class: 'tl-top' }, back), el('p', { class: 'empty' }, 'There is no result ' + (args[0] || '') + ' in this report.'));
    return;
  }
  tb_state.focus = row._i;

  const timeline = el('div', { id: 'timeline', class: 'tl-timeline' }, el('p', { class: 'muted tl-loading' }, 'loading…'));
  const side = el('aside', { id: 'span-detail', class: 'tl-side', 'aria-live': 'polite' });
  const traceHead = el('div', { class: 'tl-sec-head' }, el('h3', null, 'Trace'), el('span', { class: 'muted tl-trace-sum' }));
  let pick = null; // set once the timeline is drawn: selects a span by id

  append(detail, [
    tl_header(row, back),
    tl_rowError(row),
    tl_io(row),
    el('section', { class: 'tl-sec tl-judges' },
      el('div', { class: 'tl-sec-head' }, el('h3', null, 'Judges')),
      renderMarks(row, { onSpan: (id) => pick && pick(id, true) })),
    el('section', { class: 'tl-sec tl-trace' }, traceHead,
      el('div', { class: 'tl-split' }, el('div', { class: 'tl-main' }, timeline), side))]);
  colourSwatches(detail);

  let spans;
  try {
    spans = await loadSpans(row);
  } catch (e) {
    clear(timeline).appendChild(el('p', { class: 'load-error' }, 'Could not load the trace: ' + (e && e.message ? e.message : String(e))));
    return;
  }
  if (!section.isConnected) return; // the user moved on meanwhile
  clear(timeline);
  if (!spans.length) {
    timeline.appendChild(el('p', { class: 'empty' }, 'No spans recorded for this result.'));
    side.hidden = true;
    return;
  }
  const ordered = spanTree(spans.slice());
  const byId = new Map(ordered.map((s) => [s.id, s]));
  const failed = ordered.filter((s) => s.st === 'error');
  traceHead.querySelector('.tl-trace-sum').textContent = ordered.length + ' span' + (ordered.length > 1 ? 's' : '') +
    ' · ' + fmtMs(tl_total(ordered)) + (failed.length ? ' · ' + failed.length + ' failed' : '');

  const show = (s) => { clear(side).appendChild(renderSpanDetail(s)); };
  let first = byId.get(args[1]) ||
    failed[0] ||
    ordered.find((s) => s.k === 'chain' && !byId.has(s.p)) || ordered[0];
  const wf = renderTimeline(spans, {
    selected: first.id,
    onSelect: (s) => {
      show(s);
      history.replaceState(null, '', hashOf('trace', row._i, s.id));
      const r = side.getBoundingClientRect();
      if (r.top > window.innerHeight - 40) side.scrollIntoView({ block: 'start', behavior: 'smooth' });
    },
  });
  timeline.appendChild(wf);
  show(first);
  pick = (id, focus) => {
    const line = [...wf.querySelectorAll('.span')].find((n) => n.dataset.spanId === id);
    if (!line) return;
    line.click();
    if (focus) { line.focus({ preventScroll: true }); line.scrollIntoView({ block: 'nearest', behavior: 'smooth' }); }
  };
}

// tl_header: back and prev/next buttons, then what the result is.
function tl_header(row, back) {
  const nb = tb_neighbours(row._i);
  const prev = el('button', { type: 'button', id: 'detail-prev', title: 'Previous result ([)', disabled: nb.prev === null,
    on: { click: () => go('trace', nb.prev) } }, '‹');
  const next = el('button', { type: 'button', id: 'detail-next', title: 'Next result (])', disabled: nb.next === null,
    on: { click: () => go('trace', nb.next) } }, '›');
  const pos = el('span', { class: 'muted tl-pos' }, fmtNum(nb.pos + 1) + ' of ' + fmtNum(nb.total) + (nb.filtered && nb.total < G.rows.length ? ' filtered' : ''));
  const failed = row.st !== 'ok';
  const facts = [
    ['latency', fmtMs(row.lat)],
    ['tokens', fmtNum(row.pt) + ' → ' + fmtNum(row.ct)],
    ['cost', fmtCost(row.cost)],
  ];
  return el('div', { class: 'tl-header' },
    el('div', { class: 'tl-top' }, back, el('span', { class: 'tl-nav' }, prev, pos, next)),
    el('div', { class: 'tl-title' },
      el('h2', null,
        el('span', { class: 'tl-variant' }, el('span', { class: 'swatch', 'data-side': row.s }), sideName(row.s)),
        el('span', { class: 'tl-sep', 'aria-hidden': 'true' }, '/'),
        el('span', { class: 'tl-exid mono' }, row.id),
        el('span', { class: 'tl-epoch muted' }, 'epoch ' + row.e)),
      el('span', { class: ['badge', failed ? 'badge-error' : 'badge-ok'] }, failed ? row.st || 'error' : 'ok'),
      rowFailed(row) && !failed ? el('span', { class: 'badge tl-badge-fail', title: 'a judge failed this result or could not judge it' }, 'judged failed') : null),
    el('dl', { class: 'tl-facts' }, facts.map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, v))),
      row.tr ? el('div', null, el('dt', null, 'trace'), el('dd', { class: 'mono', title: row.tr }, row.tr.slice(0, 16))) : null));
}

// tl_rowError: the chain's error and the judges that could not judge.
function tl_rowError(row) {
  const jerrs = [];
  (row.j || []).forEach((m, j) => { if (m && m.st === 'judge_error') jerrs.push([doc.judges[j] ? doc.judges[j].name : String(j), m.e]); });
  if (row.st === 'ok' && !jerrs.length) return null;
  const box = el('div', { class: 'row-error', role: 'alert' });
  if (row.st !== 'ok') {
    box.append(el('div', { class: 'tl-err-title' }, row.fs ? ['Failed at step ', el('span', { class: 'mono' }, row.fs)] : 'The chain failed'),
      el('pre', { class: 'tl-err-msg' }, row.err || '(no error message)'));
  }
  for (const [name, e] of jerrs) {
    box.append(el('div', { class: 'tl-err-title' }, 'Judge ', el('span', { class: 'mono' }, name), ' could not judge'),
      el('pre', { class: 'tl-err-msg' }, e || '(no error message)'));
  }
  return box;
}

// tl_io: the input fields, the output and the expected value.
function tl_io(row) {
  const o = parseInput(row);
  let input;
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    const entries = Object.entries(o);
    input = entries.length
      ? el('dl', { class: 'tl-kv' }, entries.map(([k, v]) => [el('dt', { class: 'mono' }, k), el('dd', null, el('pre', null, typeof v === 'string' ? v : JSON.stringify(v, null, 2)))]))
      : el('p', { class: 'muted' }, '(no fields)');
  } else {
    input = el('pre', null, prettyText(row.in || ''));
  }
  const card = (title, cls, body) => el('div', { class: ['tl-card', cls] }, el('div', { class: 'tl-card-head' }, title), el('div', { class: 'tl-card-body' }, body));
  return el('section', { class: 'tl-io' },
    card('Input', 'tl-in', input),
    card('Output', 'tl-out', row.out ? el('pre', { class: 'mono' }, prettyText(row.out)) : el('p', { class: 'muted' }, row.st !== 'ok' ? '(no output: the chain failed)' : '(empty)')),
    row.exp !== null && row.exp !== undefined ? card('Expected', 'tl-exp', el('pre', { class: 'mono' }, prettyText(row.exp))) : null);
}

// renderMarks: each judge's verdict on row with its label, reason and
// error, a `.score` each. opts.onSpan(spanId), when given, adds a link to
// the judge's span.
function renderMarks(row, opts) {
  const box = el('div', { class: 'tl-marks' });
  if (!doc.judges.length) { box.appendChild(el('p', { class: 'muted' }, 'No judges.')); return box; }
  doc.judges.forEach((jd, j) => {
    const m = markOf(row, j);
    const state = !m ? 'none' : m.st === 'judge_error' ? 'error' : m.st !== 'ok' ? 'none' : m.p === false ? 'fail' : m.p === true ? 'pass' : 'score';
    const link = opts && opts.onSpan && m && m.sp
      ? el('button', { type: 'button', class: 'tl-link', title: 'Show this judge\'s span in the trace', on: { click: () => opts.onSpan(m.sp) } }, 'span ›')
      : null;
    box.appendChild(el('div', { class: ['score', 'score-' + state], 'data-judge': jd.name },
      el('div', { class: 'score-head' },
        el('span', { class: 'score-name' }, jd.name),
        jd.type ? el('span', { class: 'score-type' }, jd.type) : null,
        markView(m, judgeGraded(j)),
        m && m.l ? el('span', { class: 'score-label', title: 'label' }, m.l) : null,
        link),
      !m ? el('div', { class: 'score-reason muted' }, 'not judged')
        : m.st === 'skipped' ? el('div', { class: 'score-reason muted' }, 'skipped' + (m.e ? ': ' + m.e : '') + (m.r ? ' · ' + m.r : ''))
          : [m.r ? el('div', { class: 'score-reason' }, m.r) : null,
            m.e ? el('div', { class: 'score-err-msg' }, m.e) : null]));
  });
  return box;
}

// ---------------------------------------------------------------- timeline

// tl_total is a trace's length: the end of its last span.
function tl_total(spans) {
  let end = 0;
  for (const s of spans) end = Math.max(end, (+s.t || 0) + (+s.d || 0));
  return end > 0 ? end : 0.001;
}

// tl_ticks: round times from 0 to total, about n of them.
function tl_ticks(total, n) {
  const raw = total / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  const step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  const out = [];
  for (let i = 0; i * step <= total * 1.0001 && i < 50; i++) out.push(i * step);
  return out;
}

function tl_pct(x, total) { return Math.min(100, Math.max(0, (x / total) * 100)); }

// renderTimeline draws spans as a waterfall: the time axis, then one line
// per span in tree order (name indented by depth, kind chip, status) with a
// bar placed at its start and sized by its duration. opts: {selected: span
// id, onSelect(span), compact}. Each line is a `.span[data-span-id]
// [data-kind]` (class `failed` when the span failed, `selected` when
// selected); clicking it or pressing Enter selects it.
function renderTimeline(spans, opts) {
  opts = opts || {};
  const list = spanTree(spans.slice());
  const total = tl_total(list);
  const byId = new Map(list.map((s) => [s.id, s]));
  const wf = el('div', { class: ['tl-waterfall', opts.compact && 'tl-compact'], role: 'listbox', 'aria-label': 'Spans by start time' });

  const axis = el('div', { class: 'tl-axis' });
  const grid = el('div', { class: 'tl-grid', 'aria-hidden': 'true' });
  for (const v of tl_ticks(total, opts.compact ? 4 : 6)) {
    const x = tl_pct(v, total);
    const tick = el('span', { class: ['tl-tick', x < 1 && 'tl-tick-first'] }, v === 0 ? '0' : fmtMs(v));
    tick.style.left = x + '%';
    axis.appendChild(tick);
    const line = el('span', { class: 'tl-gridline' });
    line.style.left = x + '%';
    grid.appendChild(line);
  }
  wf.appendChild(el('div', { class: 'tl-line tl-head', 'aria-hidden': 'true' },
    el('div', { class: 'tl-name' }, 'span'), el('div', { class: 'tl-track' }, axis)));

  const body = el('div', { class: 'tl-body' }, el('div', { class: 'tl-grid-wrap' }, grid));
  for (const s of list) body.appendChild(tl_line(s, total, s.id === opts.selected));
  wf.appendChild(body);

  const select = (line) => {
    const s = byId.get(line.dataset.spanId);
    if (!s) return;
    for (const x of wf.querySelectorAll('.span.selected')) { x.classList.remove('selected'); x.setAttribute('aria-selected', 'false'); }
    line.classList.add('selected');
    line.setAttribute('aria-selected', 'true');
    if (opts.onSelect) opts.onSelect(s);
  };
  wf.addEventListener('click', (ev) => {
    const line = ev.target.closest('.span');
    if (line && wf.contains(line)) select(line);
  });
  wf.addEventListener('keydown', (ev) => {
    const line = ev.target.closest('.span');
    if (!line) return;
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(line); }
    else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      const to = ev.key === 'ArrowDown' ? line.nextElementSibling : line.previousElementSibling;
      if (to && to.classList.contains('span')) { ev.preventDefault(); to.focus(); }
    }
  });

  if (!opts.compact) wf.appendChild(tl_legend(list));
  return wf;
}

// tl_line is one span's line of the waterfall.
function tl_line(s, total, selected) {
  const failed = s.st === 'error';
  const a = s.a || {};
  const t = +s.t || 0, d = +s.d || 0;
  const name = el('div', { class: 'tl-name' },
    el('span', { class: 'tl-kind', title: 'kind: ' + s.k }, s.k),
    el('span', { class: 'tl-label' }, s.n),
    failed ? el('span', { class: 'tl-icon tl-icon-err', title: 'failed' }, '✕') : null,
    s.k === 'judge' && a.pass === false && !failed ? el('span', { class: 'tl-icon tl-icon-fail', title: 'verdict: fail' }, '✗') : null,
    s.k === 'judge' && a.pass === true ? el('span', { class: 'tl-icon tl-icon-pass', title: 'verdict: pass' }, '✓') : null);
  name.style.paddingLeft = (6 + (s._depth || 0) * 14) + 'px';

  const left = tl_pct(t, total);
  const width = Math.min(100 - left, tl_pct(d, total));
  const bar = el('span', { class: 'tl-bar' });
  bar.style.left = left + '%';
  bar.style.width = width + '%';
  let note = fmtMs(d);
  if (a.prompt_tokens !== undefined || a.completion_tokens !== undefined) note += ' · ' + fmtNum(a.prompt_tokens || 0) + '→' + fmtNum(a.completion_tokens || 0);
  if (a.cache === 'hit') note += ' · cached';
  if (a.retries > 0) note += ' · ' + a.retries + ' retr' + (a.retries > 1 ? 'ies' : 'y');
  const dur = el('span', { class: 'tl-dur' }, note);
  // The label goes after the bar, else before it, else inside its end.
  if (left + width <= 72) dur.style.left = (left + width) + '%';
  else if (left >= 28) { dur.classList.add('tl-dur-left'); dur.style.right = (100 - left) + '%'; }
  else { dur.classList.add('tl-dur-in'); dur.style.right = (100 - left - width) + '%'; }

  const title = s.n + ' (' + s.k + ') · starts at ' + fmtMs(t) + ' · ' + fmtMs(d) + (failed ? ' · failed: ' + excerpt(s.err, 200) : '');
  return el('div', { class: ['span', 'tl-line', kindClass(s.k), failed && 'failed', selected && 'selected'],
    'data-span-id': s.id, 'data-kind': s.k, tabindex: 0, role: 'option', 'aria-selected': selected ? 'true' : 'false', title },
  name, el('div', { class: 'tl-track' }, bar, dur));
}

// tl_legend names the colours of the kinds in this trace.
function tl_legend(list) {
  const kinds = [...new Set(list.map((s) => s.k))].sort((x, y) => {
    const a = KINDS.indexOf(x), b = KINDS.indexOf(y);
    return (a < 0 ? 99 : a) - (b < 0 ? 99 : b) || (x < y ? -1 : x > y ? 1 : 0);
  });
  const box = el('div', { class: 'tl-legend', 'aria-label': 'Span kinds' },
    kinds.map((k) => el('span', { class: ['tl-legend-item', kindClass(k)] }, el('span', { class: 'tl-legend-dot' }), k)));
  if (list.some((s) => s.st === 'error')) box.appendChild(el('span', { class: 'tl-legend-item tl-legend-failed' }, el('span', { class: 'tl-legend-dot' }), 'failed'));
  return box;
}

// ---------------------------------------------------------------- span detail

// renderSpanDetail: a span's name, kind, status, timing, error, metadata,
// input and output.
function renderSpanDetail(span) {
  const failed = span.st === 'error';
  const box = el('div', { class: ['tl-sd', kindClass(span.k), failed && 'failed'] });
  box.append(
    el('div', { class: 'tl-sd-head' },
      el('span', { class: 'tl-kind' }, span.k),
      el('h3', { class: 'tl-sd-name' }, span.n),
      el('span', { class: ['badge', failed ? 'badge-error' : 'badge-ok'] }, failed ? 'error' : span.st || 'ok')),
    el('div', { class: 'tl-sd-time' },
      el('span', null, 'starts at ', el('strong', null, '+' + fmtMs(+span.t || 0))),
      el('span', null, 'took ', el('strong', null, fmtMs(+span.d || 0))),
      el('span', { class: 'mono muted', title: 'span id' }, span.id)));
  if (failed) box.appendChild(el('div', { class: 'span-error', role: 'alert' }, el('div', { class: 'tl-err-title' }, 'Error'), el('pre', null, span.err || '(no error message)')));
  const meta = tl_meta(span.a || {});
  if (meta) box.appendChild(meta);
  box.append(tl_block('Input', span.in));
  const thumbs = (span.th || []).filter((u) => typeof u === 'string' && TL_THUMB.test(u));
  if (thumbs.length) {
    box.appendChild(el('div', { class: 'tl-thumbs' }, thumbs.map((u, i) =>
      el('figure', { class: 'tl-thumb' }, el('img', { src: u, alt: 'image ' + (i + 1) + ' of the input' }),
        el('figcaption', { class: 'muted' }, 'image ' + (i + 1))))));
  }
  box.append(tl_block('Output', span.out));
  return box;
}

// TL_THUMB: the data URLs of raster images a thumbnail may show.
const TL_THUMB = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

function tl_json(v) { return typeof v === 'string' ? v : JSON.stringify(v, null, 2); }

// tl_meta: the span's attributes, the well-known ones first and readable.
function tl_meta(a) {
  const rows = [];
  const used = new Set();
  const add = (label, value, keys, mono) => { rows.push([label, value, mono]); keys.forEach((k) => used.add(k)); };
  const has = (k) => a[k] !== undefined && a[k] !== null;
  if (has('model')) add('model', String(a.model), ['model'], true);
  if (has('provider')) add('provider', String(a.provider), ['provider']);
  if (has('params')) add('params', typeof a.params === 'object' ? JSON.stringify(a.params) : String(a.params), ['params'], true);
  if (has('prompt_tokens') || has('completion_tokens')) {
    add('tokens', fmtNum(a.prompt_tokens || 0) + ' prompt → ' + fmtNum(a.completion_tokens || 0) + ' completion' + (a.tokens_estimated ? ' (estimated)' : ''),
      ['prompt_tokens', 'completion_tokens', 'tokens_estimated']);
  }
  if (has('cached_tokens')) add('cached tokens', fmtNum(a.cached_tokens), ['cached_tokens']);
  if (has('cost_usd')) add('cost', fmtCost(a.cost_usd), ['cost_usd']);
  if (has('retries') || has('attempts')) {
    const n = Array.isArray(a.attempts) ? a.attempts.length : has('attempts') ? a.attempts : null;
    add('retries', (has('retries') ? String(a.retries) : '–') + (n !== null ? ' (' + n + ' attempt' + (n === 1 ? '' : 's') + ')' : ''), ['retries']);
    if (Array.isArray(a.attempts) && a.attempts.length > 1) {
      add('attempts', el('ol', { class: 'tl-attempts' }, a.attempts.map((t) => el('li', { class: t && t.status !== 'ok' ? 'bad' : null },
        t && typeof t === 'object'
          ? [String(t.status || '?'), t.wait_ms ? ' · waited ' + fmtMs(t.wait_ms) : '', t.retry_after_ms ? ' (retry-after ' + fmtMs(t.retry_after_ms) + ')' : '', t.error ? ' · ' + t.error : '']
          : tl_json(t)))), ['attempts']);
    } else used.add('attempts');
  }
  if (has('cache')) add('cache', String(a.cache), ['cache']);
  if (has('cache_error')) add('cache error', String(a.cache_error), ['cache_error']);
  if (has('rate_limit_wait_ms')) add('rate-limit wait', fmtMs(a.rate_limit_wait_ms), ['rate_limit_wait_ms']);
  if (has('finish_reason')) add('finish reason', String(a.finish_reason), ['finish_reason']);
  if (has('judge_type')) add('judge type', String(a.judge_type), ['judge_type']);
  if (has('score')) add('score', fmtNum(a.score, 4), ['score']);
  if (has('pass')) add('verdict', a.pass ? '✓ pass' : '✗ fail', ['pass']);
  for (const k of Object.keys(a).sort()) {
    if (used.has(k) || a[k] === undefined) continue;
    const v = a[k];
    add(k, v !== null && typeof v === 'object' ? el('pre', null, JSON.stringify(v, null, 2)) : typeof v === 'string' ? v : JSON.stringify(v), [k], true);
  }
  if (!rows.length) return null;
  return el('dl', { class: 'tl-meta' }, rows.map(([k, v, mono]) => el('div', { class: 'tl-meta-row' },
    el('dt', null, k), el('dd', { class: mono && typeof v === 'string' ? 'mono' : null }, v))));
}

// tl_block: a span's input or output. A JSON list of chat messages shows
// each message under its role; other JSON is pretty-printed; text is kept
// as it is.
function tl_block(title, text) {
  const head = el('div', { class: 'tl-block-head' }, title);
  if (text === null || text === undefined || text === '') {
    return el('div', { class: 'tl-block' }, head, el('p', { class: 'muted tl-none' }, '(empty)'));
  }
  const msgs = tl_messages(text);
  let body;
  if (msgs) {
    head.appendChild(el('span', { class: 'muted' }, ' · ' + msgs.length + ' message' + (msgs.length === 1 ? '' : 's')));
    body = el('div', { class: 'tl-msgs' }, msgs.map((m) => {
      const extra = Object.keys(m).filter((k) => k !== 'role' && k !== 'content');
      const rest = {};
      extra.forEach((k) => { rest[k] = m[k]; });
      return el('div', { class: ['tl-msg', 'tl-role-' + (/^[a-z]+$/.test(m.role) ? m.role : 'other')] },
        el('div', { class: 'tl-role' }, String(m.role)),
        m.content === null || m.content === undefined || m.content === '' ? null : el('pre', null, tl_json(m.content)),
        extra.length ? el('pre', { class: 'tl-msg-extra' }, JSON.stringify(rest, null, 2)) : null);
    }));
  } else {
    body = el('pre', { class: 'tl-text' }, prettyText(text));
  }
  return el('div', { class: 'tl-block' }, head, body);
}

// tl_messages returns text's chat messages when it is a JSON list of
// {role, content}, else null.
function tl_messages(text) {
  if (typeof text !== 'string') return null;
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  let v;
  try { v = JSON.parse(t); } catch (e) { return null; }
  if (!Array.isArray(v) || !v.length) return null;
  return v.every((m) => m && typeof m === 'object' && !Array.isArray(m) && typeof m.role === 'string' && 'content' in m) ? v : null;
}
