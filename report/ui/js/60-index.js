// Index: the viewer's home page. The runs found under the served
// directories, newest first, with a filter, links to each run's report,
// a chooser to compare any two runs and, within a run, two variants.
// Links are the viewer's own URLs with the run key encoded.

const IX_STATUSES = ['completed', 'running', 'interrupted', 'failed'];

// ix_runs returns the index entries (never null).
function ix_runs() { return Array.isArray(doc.index) ? doc.index.filter((r) => r.mode !== 'traffic') : []; }

// ix_traffic returns the directories of collected spans.
function ix_traffic() { return Array.isArray(doc.index) ? doc.index.filter((r) => r.mode === 'traffic') : []; }

// ix_trafficList: the directories of collected spans, each a link to its
// trace table and dashboard.
function ix_trafficList(dirs) {
  const body = el('tbody');
  for (const d of dirs) {
    body.appendChild(el('tr', { class: 'traffic-item', 'data-key': d.key },
      el('td', { class: 'ix-name' }, el('a', { class: 'traffic-link', href: 'traffic?dir=' + encodeURIComponent(d.key), title: 'open the traces of ' + (d.dir || d.key) },
        el('span', { class: 'ix-run-name' }, d.name || d.dir || d.key))),
      el('td', { class: 'num' }, fmtNum(d.files)),
      el('td', { class: 'ix-dir', title: d.dir || '' }, d.dir || '')));
  }
  const head = el('tr', null, el('th', null, 'Traces'), el('th', { class: 'num' }, 'Span files'), el('th', null, 'Directory'));
  return el('div', { class: 'ix-traffic' },
    el('div', { class: 'ix-head' }, el('h2', null, 'Collected traces'),
      el('span', { class: 'ix-count muted', id: 'traffic-dir-count' }, dirs.length === 1 ? '1 directory' : fmtNum(dirs.length) + ' directories')),
    el('div', { class: 'ix-table-wrap' }, el('table', { id: 'traffic-list', class: 'ix-table' }, el('thead', null, head), body)));
}

// ix_started formats an RFC 3339 time compactly ("2026-11-20 14:03 UTC").
function ix_started(s) {
  if (!s) return '–';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return s;
  return m[1] + ' ' + m[2] + (m[5] === 'Z' ? ' UTC' : m[5] ? ' ' + m[5] : '');
}

// ix_ago is a rough age of an RFC 3339 time ("3 h ago"), or ''.
function ix_ago(s) {
  const t = Date.parse(s || '');
  if (!isFinite(t)) return '';
  const sec = (Date.now() - t) / 1000;
  if (sec < 0) return '';
  if (sec < 90) return 'just now';
  if (sec < 5400) return Math.round(sec / 60) + ' min ago';
  if (sec < 129600) return Math.round(sec / 3600) + ' h ago';
  if (sec < 86400 * 60) return Math.round(sec / 86400) + ' d ago';
  return '';
}

// ix_label names a run in a chooser: name, id and start.
function ix_label(r) {
  return excerpt(r.name || '(unnamed)', 40) + ' · ' + (r.run_id || r.key) + (r.started_at ? ' · ' + ix_started(r.started_at) : '');
}

// ix_status is a coloured dot and the run's status.
function ix_status(r) {
  const st = r.error ? 'unreadable' : r.status || 'unknown';
  const cls = IX_STATUSES.includes(st) ? st : st === 'unreadable' ? 'unreadable' : 'unknown';
  return el('span', { class: ['ix-status', 'ix-st-' + cls] }, el('span', { class: 'ix-dot', 'aria-hidden': 'true' }), st);
}

// ix_variantChooser: two selects and a button opening the comparison of
// two variants of run r.
function ix_variantChooser(r) {
  const vs = r.variants || [];
  const mk = (cls, sel, label) => el('select', { class: cls, 'aria-label': label },
    vs.map((v, i) => { const o = el('option', { value: v }, excerpt(v, 40)); if (i === sel) o.selected = true; return o; }));
  const a = mk('ix-va', 0, 'variant A (baseline)');
  const b = mk('ix-vb', 1, 'variant B');
  const btn = el('button', { type: 'button', class: 'ix-vgo', title: 'compare variant B against variant A in this run' }, 'compare');
  const sync = () => { btn.disabled = a.value === b.value; };
  a.addEventListener('change', sync);
  b.addEventListener('change', sync);
  btn.addEventListener('click', () => {
    if (a.value === b.value) return;
    location.href = 'compare?run=' + encodeURIComponent(r.key) + '&va=' + encodeURIComponent(a.value) + '&vb=' + encodeURIComponent(b.value);
  });
  sync();
  return el('details', { class: 'ix-vcompare' }, el('summary', null, 'compare variants'),
    el('div', { class: 'ix-vform' }, a, el('span', { class: 'ix-vs' }, 'vs'), b, btn));
}

// ix_row is one run of the table.
function ix_row(r) {
  const vs = r.variants || [];
  const nameCell = el('td', { class: 'ix-name' },
    el('a', { class: 'run-link', href: 'run?run=' + encodeURIComponent(r.key), title: 'open the report of ' + (r.run_id || r.key) },
      el('span', { class: 'ix-run-name' }, r.name || '(unnamed)'),
      r.run_id ? el('span', { class: 'ix-run-id' }, r.run_id) : null),
    r.mode && r.mode !== 'run' ? el('span', { class: 'ix-mode' }, r.mode) : null,
    r.error ? el('div', { class: 'ix-error' }, r.error) : null);
  return el('tr', { class: ['run-item', r.error ? 'ix-unreadable' : ''], 'data-key': r.key },
    nameCell,
    el('td', null, ix_status(r)),
    el('td', { class: 'ix-started', title: r.started_at || '' }, ix_started(r.started_at),
      ix_ago(r.started_at) ? el('span', { class: 'ix-ago' }, ix_ago(r.started_at)) : null),
    el('td', { class: 'ix-variants' },
      vs.length ? el('span', { class: 'ix-vlist' }, vs.join(', ')) : el('span', { class: 'muted' }, '–'),
      vs.length >= 2 ? ix_variantChooser(r) : null),
    el('td', { class: 'num' }, r.error ? '–' : fmtNum(r.results)),
    el('td', { class: ['num', r.errors ? 'bad' : ''] }, r.error ? '–' : fmtNum(r.errors)),
    el('td', { class: 'num' }, r.error ? '–' : fmtCost(r.cost_usd)),
    el('td', { class: 'ix-dir', title: r.dir || '' }, r.dir || ''));
}

// ix_compareRuns: the chooser comparing any two readable runs.
function ix_compareRuns(runs) {
  const ok = runs.filter((r) => !r.error);
  const mk = (id, sel, label) => el('select', { id, 'aria-label': label },
    ok.map((r, i) => { const o = el('option', { value: r.key }, ix_label(r)); if (i === sel) o.selected = true; return o; }));
  // Default: the newest run (B) against the one before it (A).
  const a = mk('compare-a', ok.length > 1 ? 1 : 0, 'run A (baseline)');
  const b = mk('compare-b', 0, 'run B');
  const go = el('button', { type: 'button', id: 'compare-go', class: 'ix-go' }, 'Compare');
  const hint = el('span', { class: 'ix-hint muted' });
  const sync = () => {
    const same = a.value === b.value;
    go.disabled = ok.length < 2 || same;
    hint.textContent = ok.length < 2 ? 'needs two readable runs' : same ? 'choose two different runs' : '';
  };
  a.addEventListener('change', sync);
  b.addEventListener('change', sync);
  go.addEventListener('click', () => {
    if (go.disabled) return;
    location.href = 'compare?a=' + encodeURIComponent(a.value) + '&b=' + encodeURIComponent(b.value);
  });
  sync();
  return el('div', { class: 'ix-compare', id: 'compare-runs' },
    el('span', { class: 'ix-compare-title' }, 'Compare two runs'),
    el('label', { class: 'ix-ctl' }, el('span', { class: 'ix-ab' }, 'A'), a),
    el('span', { class: 'ix-arrow', 'aria-hidden': 'true' }, '→'),
    el('label', { class: 'ix-ctl' }, el('span', { class: 'ix-ab' }, 'B'), b),
    go, hint);
}

function ix_render(section) {
  const runs = ix_runs();
  const dirs = ix_traffic();
  if (dirs.length) section.appendChild(ix_trafficList(dirs));
  section.appendChild(el('div', { class: 'ix-head' },
    el('h2', null, 'Runs'),
    el('span', { class: 'ix-count muted', id: 'run-count', 'data-count': runs.length }, runs.length === 1 ? '1 run' : fmtNum(runs.length) + ' runs')));
  if (!runs.length) {
    section.appendChild(el('div', { class: 'empty ix-empty' },
      el('p', null, 'No runs found under the directories this viewer serves.'),
      el('p', { class: 'muted' }, 'A run is a directory holding a ', el('code', null, 'manifest.json'),
        ' (written by ', el('code', null, 'gavel run'), '); the viewer looks up to 6 levels deep.')));
    return;
  }
  section.appendChild(ix_compareRuns(runs));
  const filter = el('input', { type: 'search', id: 'run-filter', class: 'ix-filter', placeholder: 'Filter by name, run id or directory…',
    'aria-label': 'filter runs', autocomplete: 'off', spellcheck: 'false' });
  const body = el('tbody');
  const items = runs.map((r) => {
    const tr = ix_row(r);
    body.appendChild(tr);
    return { tr, hay: [r.name, r.run_id, r.dir, r.key].filter(Boolean).join('\n').toLowerCase() };
  });
  const none = el('tr', { class: 'ix-none', hidden: true }, el('td', { colspan: 8, class: 'empty' }, 'No run matches the filter.'));
  body.appendChild(none);
  const count = section.querySelector('#run-count');
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    const words = q ? q.split(/\s+/) : [];
    let shown = 0;
    for (const it of items) {
      const on = words.every((w) => it.hay.includes(w));
      it.tr.hidden = !on;
      if (on) shown++;
    }
    none.hidden = shown > 0;
    count.dataset.count = String(shown);
    count.textContent = words.length ? fmtNum(shown) + ' of ' + fmtNum(items.length) + ' runs' : (items.length === 1 ? '1 run' : fmtNum(items.length) + ' runs');
  };
  filter.addEventListener('input', apply);
  section.appendChild(el('div', { class: 'ix-toolbar' }, filter));
  const head = el('tr', null, el('th', null, 'Run'), el('th', null, 'Status'), el('th', null, 'Started'), el('th', null, 'Variants'),
    el('th', { class: 'num' }, 'Results'), el('th', { class: 'num' }, 'Errors'), el('th', { class: 'num' }, 'Cost'), el('th', null, 'Directory'));
  section.appendChild(el('div', { class: 'ix-table-wrap' }, el('table', { id: 'run-list', class: 'ix-table' }, el('thead', null, head), body)));
}

registerView({
  id: 'index',
  label: 'Runs',
  available: () => doc.mode === 'index',
  render(section) { ix_render(section); },
});
