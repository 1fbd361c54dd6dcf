// Trace table: one line per result (variant × example × epoch), with
// filters, sorting and pages. Filtering and sorting work on arrays of row
// indices; only the page shown (100 rows) becomes DOM, so a run of tens of
// thousands of results stays quick.

const tb_PAGE = 100;

// tb_state outlives the view: coming back from a trace shows the same
// filters, order and page. focus is the row to show and focus on return.
const tb_state = {
  status: 'all', regressed: false, judge: '', below: '', search: '', variant: '',
  sort: null, dir: 1, page: 0, focus: null,
};

// tb_cache holds what is derived from G.rows once, or once per order.
const tb_cache = {
  cols: null, order: null, orderKey: null, list: null, listKey: null,
  hay: null, regressed: null, epochs: null, graded: null,
};

// tb_dom points at the table view's live nodes while it is shown.
let tb_dom = null;
let tb_timer = 0;

registerView({
  id: 'table',
  label: 'Traces',
  available: () => doc.mode !== 'index' && doc.mode !== 'traffic',
  render: tb_render,
});

// ---------------------------------------------------------------- columns

function tb_hasEpochs() {
  if (tb_cache.epochs === null) tb_cache.epochs = G.rows.some((r) => r.e > 0);
  return tb_cache.epochs;
}

function tb_graded(j) {
  if (!tb_cache.graded) tb_cache.graded = doc.judges.map((_, i) => judgeGraded(i));
  return tb_cache.graded[j];
}

// tb_textKey makes a string sort in natural order (digit runs padded) and
// without case.
function tb_textKey(s) {
  if (s === null || s === undefined) return null;
  return String(s).slice(0, 160).toLowerCase().replace(/\d+/g, (d) => d.length >= 12 ? d : '000000000000'.slice(d.length) + d);
}

// tb_columns lists the table's columns: key, header, sort key of a row,
// and the cell of a row.
function tb_columns() {
  if (tb_cache.cols) return tb_cache.cols;
  const cols = [];
  cols.push({ key: 'variant', label: 'variant', sort: (r) => tb_textKey(sideName(r.s)), cell: tb_variantCell });
  cols.push({ key: 'id', label: 'example', sort: (r) => tb_textKey(r.id),
    cell: (r) => el('td', { class: 'tb-id mono', title: r.id }, r.id) });
  if (tb_hasEpochs()) {
    cols.push({ key: 'epoch', label: 'epoch', num: true, sort: (r) => r.e, cell: (r) => el('td', { class: 'num' }, String(r.e)) });
  }
  cols.push({ key: 'input', label: 'input', sort: (r) => tb_textKey(inputExcerpt(r, 160)),
    cell: (r) => el('td', { class: 'tb-text tb-input', title: inputExcerpt(r, 600) }, inputExcerpt(r, 100)) });
  cols.push({ key: 'output', label: 'output', sort: (r) => tb_textKey(r.out),
    cell: (r) => el('td', { class: 'tb-text tb-output mono', title: excerpt(r.out, 600) }, r.out ? excerpt(r.out, 100) : el('span', { class: 'muted' }, '–')) });
  cols.push({ key: 'expected', label: 'expected', sort: (r) => tb_textKey(r.exp),
    cell: (r) => el('td', { class: 'tb-text tb-expected', title: r.exp === null ? '' : excerpt(r.exp, 600) }, r.exp === null || r.exp === undefined ? el('span', { class: 'muted' }, '–') : excerpt(r.exp, 60)) });
  cols.push({ key: 'status', label: 'status', sort: (r) => (r.st !== 'ok' ? 0 : rowFailed(r) ? 1 : 2), cell: tb_statusCell });
  doc.judges.forEach((jd, j) => {
    cols.push({ key: 'j' + j, label: jd.name, title: jd.name + ' (' + jd.type + ')', num: true, judge: j,
      sort: (r) => scoreOf(markOf(r, j)),
      cell: (r) => el('td', { class: 'num tb-judge' }, markView(markOf(r, j), tb_graded(j))) });
  });
  cols.push({ key: 'latency', label: 'latency', num: true, sort: (r) => r.lat, cell: (r) => el('td', { class: 'num' }, fmtMs(r.lat)) });
  cols.push({ key: 'tokens', label: 'tokens', num: true, sort: (r) => (r.pt || 0) + (r.ct || 0),
    cell: (r) => el('td', { class: 'num tb-tokens', title: 'prompt → completion tokens' }, fmtNum(r.pt) + '→' + fmtNum(r.ct)) });
  cols.push({ key: 'cost', label: 'cost', num: true, sort: (r) => r.cost,
    cell: (r) => r.cost === null || r.cost === undefined
      ? el('td', { class: 'num muted', title: 'unpriced' }, '–')
      : el('td', { class: 'num' }, fmtCost(r.cost)) });
  tb_cache.cols = cols;
  return cols;
}

// tb_variantCell names the row's variant; when the page holds several
// runs, a short run tag tells them apart (the full side name is the
// title).
function tb_variantCell(r) {
  const sd = doc.sides[r.s];
  const multi = new Set(doc.sides.map((x) => x.run_id)).size > 1;
  const td = el('td', { class: 'tb-variant', title: sideName(r.s) }, el('span', { class: 'swatch', 'data-side': r.s }));
  if (sd && multi && sd.variant) {
    const tag = String(sd.run_id || '').split('-').pop();
    td.append(sd.variant, ' ', el('span', { class: 'tb-run' }, tag));
  } else td.append(sideName(r.s));
  return td;
}

function tb_statusCell(r) {
  const td = el('td', { class: 'tb-status' });
  if (r.st !== 'ok') {
    td.append(el('span', { class: 'badge badge-error' }, r.st || 'error'));
    if (r.fs) td.append(el('span', { class: 'tb-step' }, ' at ', el('span', { class: 'mono' }, r.fs)));
    if (r.err) td.append(el('div', { class: 'tb-err', title: excerpt(r.err, 600) }, excerpt(r.err, 90)));
  } else {
    td.append(el('span', { class: 'badge badge-ok' }, 'ok'));
    const jerr = (r.j || []).filter((m) => m && m.st === 'judge_error').length;
    if (jerr) td.append(el('div', { class: 'tb-jerr' }, jerr + ' judge error' + (jerr > 1 ? 's' : '')));
  }
  const reg = tb_regressedFlags();
  if (reg && reg[r._i]) td.append(el('div', { class: 'tb-reg', title: 'scores lower than the other side of a comparison on some judge' }, '▼ regressed'));
  return td;
}

// ---------------------------------------------------------------- order and filters

// tb_order is every row index in the chosen order (stable; missing values
// last either way), cached per sort column and direction.
function tb_order() {
  const key = tb_state.sort ? tb_state.sort + ':' + tb_state.dir : '';
  if (tb_cache.order && tb_cache.orderKey === key) return tb_cache.order;
  const n = G.rows.length;
  const idx = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const col = tb_state.sort ? tb_columns().find((c) => c.key === tb_state.sort) : null;
  if (col) {
    const keys = G.rows.map(col.sort);
    const dir = tb_state.dir;
    const missing = (x) => x === null || x === undefined || (typeof x === 'number' && isNaN(x));
    idx.sort((a, b) => {
      const x = keys[a], y = keys[b];
      const mx = missing(x), my = missing(y);
      if (mx || my) return mx === my ? a - b : mx ? 1 : -1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return c ? c * dir : a - b;
    });
  }
  tb_cache.order = idx;
  tb_cache.orderKey = key;
  return idx;
}

// tb_comparisons: the report's comparisons as side indices {a, b}.
function tb_comparisons() {
  const out = [];
  for (const c of (doc.report && doc.report.comparisons) || []) {
    const a = sideIndex(c.a), b = sideIndex(c.b);
    if (a >= 0 && b >= 0 && a !== b) out.push({ a, b });
  }
  return out;
}

// tb_regressedFlags marks (once) each row of a comparison's b side that
// scores lower on some judge than the a side's row of the same example and
// epoch. null when the report has no comparisons.
function tb_regressedFlags() {
  if (tb_cache.regressed !== null) return tb_cache.regressed || null;
  const comps = tb_comparisons();
  if (!comps.length) { tb_cache.regressed = false; return null; }
  const flags = new Uint8Array(G.rows.length);
  const bySide = new Map();
  for (const r of G.rows) {
    if (!bySide.has(r.s)) bySide.set(r.s, new Map());
    bySide.get(r.s).set(r.e + '\u0000' + r.id, r);
  }
  const nj = doc.judges.length;
  for (const c of comps) {
    const as = bySide.get(c.a), bs = bySide.get(c.b);
    if (!as || !bs) continue;
    for (const [k, rb] of bs) {
      const ra = as.get(k);
      if (!ra) continue;
      for (let j = 0; j < nj; j++) {
        const sa = scoreOf(markOf(ra, j)), sb = scoreOf(markOf(rb, j));
        if (sa !== null && sb !== null && sb < sa) { flags[rb._i] = 1; break; }
      }
    }
  }
  tb_cache.regressed = flags;
  return flags;
}

// tb_hay is a row's lower-cased search text, made when first needed.
function tb_hay(i) {
  if (!tb_cache.hay) tb_cache.hay = new Array(G.rows.length);
  let h = tb_cache.hay[i];
  if (h === undefined) {
    const r = G.rows[i];
    const parts = [r.id, r.in, r.out, r.exp, r.err, r.fs];
    // Escaped JSON ("\u003c") would hide what the input says: add the
    // decoded field values too.
    if (r.in && r.in.includes('\\')) {
      const o = parseInput(r);
      if (o && typeof o === 'object') for (const v of Object.values(o)) parts.push(typeof v === 'string' ? v : JSON.stringify(v));
    }
    for (const m of r.j || []) if (m) parts.push(m.r, m.l, m.e);
    h = parts.filter((p) => p !== null && p !== undefined).join('\n').toLowerCase();
    tb_cache.hay[i] = h;
  }
  return h;
}

// tb_list is the row indices the filters match, in the chosen order.
function tb_list() {
  const s = tb_state;
  const key = [s.status, s.regressed, s.judge, s.below, s.search, s.variant, s.sort, s.dir].join('\u0000');
  if (tb_cache.list && tb_cache.listKey === key) return tb_cache.list;
  const order = tb_order();
  const q = s.search.trim().toLowerCase();
  const judge = s.judge === '' ? -1 : Number(s.judge);
  const below = s.below === '' || s.below === null ? NaN : Number(s.below);
  const byScore = judge >= 0 && !isNaN(below);
  const side = s.variant === '' ? -1 : Number(s.variant);
  const reg = s.regressed ? tb_regressedFlags() : null;
  const out = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const r = G.rows[i];
    if (side >= 0 && r.s !== side) continue;
    if (s.status === 'error' && r.st === 'ok') continue;
    if (s.status === 'failed' && !rowFailed(r)) continue;
    if (s.status === 'passed' && rowFailed(r)) continue;
    if (s.regressed && !(reg && reg[i])) continue;
    if (byScore) {
      const sc = scoreOf(markOf(r, judge));
      if (sc === null || !(sc < below)) continue;
    }
    if (q && !tb_hay(i).includes(q)) continue;
    out.push(i);
  }
  tb_cache.list = out;
  tb_cache.listKey = key;
  return out;
}

// ---------------------------------------------------------------- drawing

function tb_render(section) {
  const cols = tb_columns();
  if (!G.rows.length) {
    section.appendChild(el('p', { class: 'empty' }, 'No results in this report.'));
    tb_dom = null;
    return;
  }
  const comps = tb_comparisons();
  const sel = (id, value, options, label) => el('select', { id, 'aria-label': label, on: { change: tb_onChange } },
    options.map(([v, t]) => el('option', { value: v, selected: String(v) === String(value) }, t)));

  const status = sel('filter-status', tb_state.status,
    [['all', 'all'], ['failed', 'failed'], ['error', 'errors'], ['passed', 'passed']], 'Status');
  status.title = 'failed: the chain failed, or a judge failed the result or could not judge it; errors: the chain failed';
  const variant = sel('filter-variant', tb_state.variant,
    [['', 'all variants']].concat(doc.sides.map((sd, i) => [String(i), sd.name])), 'Variant');
  const judge = sel('filter-judge', tb_state.judge,
    [['', 'any judge']].concat(doc.judges.map((jd, j) => [String(j), jd.name])), 'Judge');
  const below = el('input', { id: 'filter-below', type: 'number', step: 'any', class: 'tb-below', placeholder: 'score <',
    'aria-label': 'Score below', title: 'Rows whose score on the chosen judge is below this value', value: tb_state.below,
    on: { input: tb_onInput, change: tb_onChange } });
  const regTitle = comps.length ? 'Rows of a comparison\'s second side that score lower than the first side on some judge' : 'No comparison in this report';
  const regressed = el('input', { id: 'filter-regressed', type: 'checkbox', checked: tb_state.regressed, disabled: !comps.length,
    title: regTitle, on: { change: tb_onChange } });
  const search = el('input', { id: 'filter-search', type: 'search', class: 'tb-search', value: tb_state.search,
    placeholder: 'Search id, input, output, error…', title: 'Searches ids, inputs, outputs, expected values, errors and judges\' reasons', 'aria-label': 'Search', spellcheck: 'false',
    on: { input: tb_onInput, change: tb_onChange } });
  const regLabel = el('label', { class: ['tb-check', !comps.length && 'tb-disabled'], for: 'filter-regressed',
    title: regTitle },
  regressed, ' regressed only');

  const count = el('span', { id: 'row-count', class: 'tb-count' });
  const prev = el('button', { type: 'button', id: 'page-prev', 'aria-label': 'Previous page', on: { click: () => tb_turn(-1) } }, '‹ prev');
  const next = el('button', { type: 'button', id: 'page-next', 'aria-label': 'Next page', on: { click: () => tb_turn(1) } }, 'next ›');
  const info = el('span', { id: 'page-info', class: 'tb-page-info' });

  const bar = el('div', { class: 'tb-toolbar', role: 'search' },
    el('div', { class: 'tb-filters' },
      el('label', { class: 'tb-field' }, el('span', null, 'Status'), status),
      el('label', { class: 'tb-field' }, el('span', null, 'Variant'), variant),
      el('span', { class: 'tb-field' }, el('label', { for: 'filter-judge' }, 'Judge'), judge, below),
      regLabel,
      search),
    el('div', { class: 'tb-pager' }, count, prev, info, next));

  const ths = cols.map((c) => el('th', { class: [c.num && 'num', 'tb-col-' + c.key], scope: 'col', 'data-key': c.key, title: c.title || null },
    el('button', { type: 'button', class: 'tb-sort', on: { click: () => tb_sortBy(c.key) } }, c.label, el('span', { class: 'tb-arrow', 'aria-hidden': 'true' }))));
  const tbody = el('tbody', { on: { click: tb_onRowClick, keydown: tb_onRowKey } });
  const table = el('table', { id: 'trace-table', class: 'tb-table' }, el('thead', null, el('tr', null, ths)), tbody);

  const bprev = el('button', { type: 'button', on: { click: () => tb_turn(-1, true) } }, '‹ prev');
  const bnext = el('button', { type: 'button', on: { click: () => tb_turn(1, true) } }, 'next ›');
  const binfo = el('span', { class: 'tb-page-info' });
  const bottom = el('div', { class: 'tb-bottom' }, bprev, binfo, bnext);

  section.append(bar, el('div', { class: 'tb-wrap' }, table), bottom);
  tb_dom = { section, bar, tbody, ths, count, prev, next, info, bprev, bnext, binfo, cols, search };
  tb_update(false);
  tb_stick();
  const focus = tb_state.focus;
  tb_state.focus = null;
  if (focus !== null) {
    const tr = tbody.querySelector('tr.row[data-row="' + focus + '"]');
    if (tr) requestAnimationFrame(() => { tr.focus(); tr.scrollIntoView({ block: 'center' }); });
  }
}

// tb_stick places the sticky toolbar below the tabs and the sticky header
// row below the toolbar.
function tb_stick() {
  if (!tb_dom || !tb_dom.section.isConnected) return;
  const tabs = document.getElementById('tabs');
  const top = tabs ? tabs.offsetHeight : 0;
  tb_dom.section.style.setProperty('--tb-top', top + 'px');
  tb_dom.section.style.setProperty('--tb-head-top', (top + tb_dom.bar.offsetHeight) + 'px');
}
window.addEventListener('resize', tb_stick);

// tb_read copies the controls' values into tb_state.
function tb_read() {
  const v = (id) => { const e = document.getElementById(id); return e ? e.value : ''; };
  tb_state.status = v('filter-status') || 'all';
  tb_state.variant = v('filter-variant');
  tb_state.judge = v('filter-judge');
  tb_state.below = v('filter-below');
  tb_state.search = v('filter-search');
  const reg = document.getElementById('filter-regressed');
  tb_state.regressed = !!(reg && reg.checked && !reg.disabled);
}

// Typing waits a moment before filtering; a committed change (select,
// checkbox, Enter or leaving a field) filters at once.
function tb_onInput() {
  clearTimeout(tb_timer);
  tb_timer = setTimeout(() => { tb_read(); tb_update(true); }, 150);
}

function tb_onChange() {
  clearTimeout(tb_timer);
  tb_read();
  tb_update(true);
}

function tb_sortBy(key) {
  if (tb_state.sort === key) tb_state.dir = -tb_state.dir;
  else { tb_state.sort = key; tb_state.dir = 1; }
  tb_update(true);
}

function tb_turn(delta, fromBottom) {
  tb_state.page += delta;
  tb_update(false);
  if (fromBottom && tb_dom) tb_dom.section.scrollIntoView({ block: 'start' });
}

function tb_onRowClick(ev) {
  const tr = ev.target.closest('tr.row');
  if (!tr) return;
  const selection = window.getSelection && window.getSelection();
  if (selection && !selection.isCollapsed && tr.contains(selection.anchorNode)) return; // selecting text, not opening
  go('trace', Number(tr.dataset.row));
}

function tb_onRowKey(ev) {
  const tr = ev.target.closest('tr.row');
  if (!tr) return;
  if (ev.key === 'Enter') { ev.preventDefault(); go('trace', Number(tr.dataset.row)); }
  else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    const to = ev.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
    if (to && to.classList.contains('row')) { ev.preventDefault(); to.focus(); }
  }
}

// tb_update filters, sorts and draws the current page.
function tb_update(resetPage) {
  if (!tb_dom) return;
  const d = tb_dom;
  const list = tb_list();
  const pages = Math.max(1, Math.ceil(list.length / tb_PAGE));
  if (resetPage) tb_state.page = 0;
  if (tb_state.focus !== null) {
    const pos = list.indexOf(tb_state.focus);
    if (pos >= 0) tb_state.page = Math.floor(pos / tb_PAGE);
  }
  tb_state.page = Math.min(Math.max(0, tb_state.page), pages - 1);
  const from = tb_state.page * tb_PAGE;
  const slice = list.slice(from, from + tb_PAGE);

  const frag = document.createDocumentFragment();
  for (const i of slice) frag.appendChild(tb_row(G.rows[i], d.cols));
  if (!slice.length) {
    frag.appendChild(el('tr', { class: 'tb-none' }, el('td', { colspan: d.cols.length, class: 'empty' }, 'No result matches these filters.')));
  }
  clear(d.tbody).appendChild(frag);
  colourSwatches(d.tbody);

  d.count.dataset.count = String(list.length);
  d.count.textContent = fmtNum(list.length) + ' of ' + fmtNum(G.rows.length) + ' rows';
  const info = 'page ' + (tb_state.page + 1) + ' of ' + pages;
  d.info.textContent = info;
  d.binfo.textContent = info + ' · rows ' + (list.length ? fmtNum(from + 1) : 0) + '–' + fmtNum(from + slice.length);
  d.prev.disabled = d.bprev.disabled = tb_state.page <= 0;
  d.next.disabled = d.bnext.disabled = tb_state.page >= pages - 1;
  for (const th of d.ths) {
    const on = th.dataset.key === tb_state.sort;
    th.setAttribute('aria-sort', on ? (tb_state.dir > 0 ? 'ascending' : 'descending') : 'none');
    th.classList.toggle('sorted', on);
    th.querySelector('.tb-arrow').textContent = on ? (tb_state.dir > 0 ? ' ▲' : ' ▼') : '';
  }
}

function tb_row(r, cols) {
  const tr = el('tr', { class: ['row', r.st !== 'ok' && 'error', rowFailed(r) && 'failed'], 'data-row': r._i, tabindex: 0,
    'aria-label': sideName(r.s) + ' ' + r.id + (r.e ? ' epoch ' + r.e : '') + (r.st !== 'ok' ? ' (error)' : '') });
  for (const c of cols) tr.appendChild(c.cell(r));
  return tr;
}

// tb_neighbours is used by the trace view's prev/next buttons: the rows
// around row index i in the table's current filtered order (or in report
// order when i is not among them).
function tb_neighbours(i) {
  const list = tb_list();
  const pos = list.indexOf(i);
  if (pos < 0) {
    return { prev: i > 0 ? i - 1 : null, next: i < G.rows.length - 1 ? i + 1 : null, pos: i, total: G.rows.length, filtered: false };
  }
  return { prev: pos > 0 ? list[pos - 1] : null, next: pos < list.length - 1 ? list[pos + 1] : null, pos, total: list.length, filtered: true };
}
