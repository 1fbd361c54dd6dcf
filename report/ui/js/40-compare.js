// Compare view: for a pair of sides (B against A) and one judge, the
// paired figures, then every example ordered regressed first (largest drop
// first), improved, the rest, and the examples only one side has. Opening
// one shows both results side by side, both timelines and the two span
// trees aligned step by step, with the first change marked.

const cmp_groups = ['regressed', 'improved', 'same', 'only-a', 'only-b'];
const cmp_pageSize = 200;

// cmp_pairCache: pair index → {pairs: [{a, b}], byRow: Map(row index → pair)}.
const cmp_pairCache = new Map();

function cmp_comparisons() {
  return (doc.report && doc.report.comparisons) || [];
}

// cmp_pairsOf pairs the rows of the comparison's sides A and B by example
// id and epoch (in one pass over the rows).
function cmp_pairsOf(p) {
  if (cmp_pairCache.has(p)) return cmp_pairCache.get(p);
  const c = cmp_comparisons()[p];
  const sa = sideIndex(c.a);
  const sb = sideIndex(c.b);
  const keyOf = (r) => r.id + '\u0000' + r.e;
  const bs = new Map();
  for (const r of G.rows) if (r.s === sb && !bs.has(keyOf(r))) bs.set(keyOf(r), r);
  const pairs = [];
  for (const r of G.rows) {
    if (r.s !== sa) continue;
    const k = keyOf(r);
    const b = bs.get(k) || null;
    if (b) bs.delete(k);
    pairs.push({ a: r, b });
  }
  for (const b of bs.values()) pairs.push({ a: null, b });
  const byRow = new Map();
  for (const pr of pairs) {
    if (pr.a) byRow.set(pr.a._i, pr);
    if (pr.b) byRow.set(pr.b._i, pr);
  }
  const out = { pairs, byRow, sa, sb };
  cmp_pairCache.set(p, out);
  return out;
}

// cmp_docJudge is the index in doc.judges of the judge named name.
function cmp_docJudge(name) {
  return doc.judges.findIndex((j) => j.name === name);
}

// cmp_classify computes each pair's difference d (score of B − score of A)
// on judge jd and its change, and orders them: regressed (most negative
// first), improved (largest first), same or unscored, only-a, only-b; ties
// by example index.
function cmp_classify(pairs, jd) {
  const items = pairs.map((pr) => {
    let change;
    let d = null;
    if (!pr.b) change = 'only-a';
    else if (!pr.a) change = 'only-b';
    else {
      const sA = jd >= 0 ? scoreOf(markOf(pr.a, jd)) : null;
      const sB = jd >= 0 ? scoreOf(markOf(pr.b, jd)) : null;
      if (sA !== null && sB !== null) d = sB - sA;
      change = d === null || d === 0 ? 'same' : d < 0 ? 'regressed' : 'improved';
    }
    const r = pr.a || pr.b;
    return { pr, d, change, idx: r.i, e: r.e };
  });
  const rank = { regressed: 0, improved: 1, same: 2, 'only-a': 3, 'only-b': 4 };
  items.sort((x, y) => {
    if (x.change !== y.change) return rank[x.change] - rank[y.change];
    if (x.change === 'regressed' && x.d !== y.d) return x.d - y.d;
    if (x.change === 'improved' && x.d !== y.d) return y.d - x.d;
    return x.idx - y.idx || x.e - y.e;
  });
  return items;
}

function cmp_fmtD(d) {
  if (d === null || d === undefined) return '–';
  return (d > 0 ? '+' : d < 0 ? '−' : '±') + fmtNum(Math.abs(d), 3);
}

// cmp_sideLabel is a side's swatch and name.
function cmp_sideLabel(name, cls) {
  const i = sideIndex(name);
  return el('span', { class: ['cmp-side-label', cls] }, i >= 0 ? el('span', { class: 'swatch', 'data-side': i }) : null, name);
}

// cmp_args reads the route: pair index, judge index (in the comparison's
// judges) and the row opened, clamped to what exists.
function cmp_args(args) {
  const comps = cmp_comparisons();
  let p = parseInt(args[0], 10);
  if (!(p >= 0 && p < comps.length)) p = 0;
  const nj = (comps[p].judges || []).length;
  let j = parseInt(args[1], 10);
  if (!(j >= 0 && j < nj)) j = 0;
  const r = args[2] !== undefined && args[2] !== '' ? parseInt(args[2], 10) : null;
  return { p, j, r: r === null || isNaN(r) ? null : r };
}

// cmp_controls: the pair and judge choosers and the pair's headline.
function cmp_controls(p, j) {
  const comps = cmp_comparisons();
  const c = comps[p];
  const pairSel = el('select', { id: 'compare-pair', 'aria-label': 'Comparison', on: { change: (e) => go('compare', e.target.value, 0) } },
    comps.map((x, i) => el('option', { value: String(i) }, x.b + ' vs ' + x.a)));
  pairSel.value = String(p);
  const judgeSel = el('select', { id: 'compare-judge', 'aria-label': 'Judge', on: { change: (e) => go('compare', p, e.target.value) } },
    (c.judges || []).map((x, i) => el('option', { value: String(i) }, x.judge)));
  judgeSel.value = String(j);
  const onlyA = (c.only_a || []).length;
  const onlyB = (c.only_b || []).length;
  return el('div', { class: 'cmp-controls' },
    el('label', { class: 'cmp-ctl' }, el('span', { class: 'muted' }, 'Comparison'), pairSel),
    el('label', { class: 'cmp-ctl' }, el('span', { class: 'muted' }, 'Judge'), judgeSel),
    el('span', { class: 'cmp-pair-line' },
      el('span', { class: 'cmp-ab' }, 'A'), cmp_sideLabel(c.a), el('span', { class: 'cmp-arrow' }, '→'),
      el('span', { class: 'cmp-ab' }, 'B'), cmp_sideLabel(c.b),
      el('span', { class: 'muted' }, ' · ' + fmtNum(c.paired) + ' paired' + (onlyA ? ' · ' + onlyA + ' only in A' : '') + (onlyB ? ' · ' + onlyB + ' only in B' : ''))));
}

// cmp_testLabel: the paired test of judge comparison x and, when it is
// one-sided, its alternative ("sign, one-sided B > A").
function cmp_testLabel(x) {
  if (!x.test) return '';
  const alt = x.alternative === 'greater' ? ', one-sided B > A' : x.alternative === 'less' ? ', one-sided B < A' : '';
  return String(x.test).replace(/_/g, ' ') + alt;
}

// cmp_figures: one line per judge of the pair.
function cmp_figures(p, j) {
  const c = cmp_comparisons()[p];
  const head = el('tr', null,
    el('th', null, 'judge'), el('th', { class: 'num' }, 'n'), el('th', { class: 'num' }, 'mean A'), el('th', { class: 'num' }, 'mean B'),
    el('th', { class: 'num' }, 'diff (B − A)'), el('th', { class: 'num' }, 'p adj.'), el('th', null, 'test'), el('th', null, 'verdict'),
    el('th', { class: 'num' }, 'improved'), el('th', { class: 'num' }, 'regressed'), el('th', { class: 'num' }, 'equal'), el('th', { class: 'num', title: 'minimum detectable effect' }, 'mde'));
  const body = el('tbody');
  (c.judges || []).forEach((x, i) => {
    const v = String(x.verdict || '');
    const vcls = v === 'improved' ? 'verdict-improved' : v === 'regressed' ? 'verdict-regressed' : 'verdict-other';
    const tr = el('tr', {
      class: ['cmp-fig', i === j && 'current'], tabindex: '0', 'data-judge': x.judge, title: x.test ? 'test: ' + cmp_testLabel(x) + (x.method ? ' (' + x.method + ')' : '') + (x.scale ? ', ' + x.scale + ' judge' : '') + (x.p !== null && x.p !== undefined ? ', raw p = ' + fmtNum(x.p, 4) : '') : null,
      on: { click: () => go('compare', p, i), keydown: (e) => { if (e.key === 'Enter') go('compare', p, i); } },
    },
    el('td', null, x.judge),
    el('td', { class: 'num' }, fmtNum(x.n)),
    el('td', { class: 'num' }, fmtNum(x.mean_a)),
    el('td', { class: 'num' }, fmtNum(x.mean_b)),
    el('td', { class: ['num', x.diff > 0 && 'pos', x.diff < 0 && 'neg'] }, cmp_fmtD(x.diff), el('span', { class: 'ci' }, ' ' + fmtInterval(x.diff_ci, false))),
    el('td', { class: 'num' }, fmtP(x.p_adjusted)),
    el('td', { class: 'cmp-test' }, cmp_testLabel(x) || '–'),
    el('td', null, el('span', { class: ['verdict', vcls] }, v || '–')),
    el('td', { class: 'num pos' }, fmtNum(x.improved)),
    el('td', { class: ['num', x.regressed && 'neg'] }, fmtNum(x.regressed)),
    el('td', { class: 'num' }, fmtNum(x.equal)),
    el('td', { class: 'num' }, fmtNum(x.mde)));
    body.appendChild(tr);
  });
  return el('div', { class: 'cmp-figures-wrap' }, el('table', { class: 'cmp-figures', id: 'compare-figures' }, el('thead', null, head), body));
}

// cmp_groupTitle is a section heading of the list.
function cmp_groupTitle(change, n, c) {
  switch (change) {
    case 'regressed': return n + ' regressed';
    case 'improved': return n + ' improved';
    case 'same': return n + ' same or unscored';
    case 'only-a': return n + ' only in A (' + c.a + ')';
    default: return n + ' only in B (' + c.b + ')';
  }
}

// cmp_outLine is a one-line view of a row's output (or its error).
function cmp_outLine(row, tag) {
  if (!row) return el('div', { class: 'cmp-out cmp-out-none' }, el('span', { class: 'cmp-ab' }, tag), el('span', { class: 'muted' }, 'no result'));
  const err = row.st !== 'ok';
  return el('div', { class: ['cmp-out', err && 'cmp-out-error'] }, el('span', { class: 'cmp-ab' }, tag),
    el('span', { class: 'cmp-out-text' }, err ? 'error: ' + excerpt(row.err || row.st, 160) : (row.out === '' ? '(empty)' : excerpt(row.out, 160))));
}

// cmp_item is one example of the list.
function cmp_item(it, p, j, jd, graded, showEpoch) {
  const { pr } = it;
  const target = pr.b || pr.a;
  const open = () => go('compare', p, j, target._i);
  const r = pr.a || pr.b;
  return el('div', {
    class: ['compare-item', 'change-' + it.change], 'data-change': it.change, 'data-row': target._i, tabindex: '0', role: 'button',
    on: { click: open, keydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } } },
  },
  el('div', { class: 'cmp-item-head' },
    el('span', { class: 'cmp-id mono', title: r.id }, r.id),
    showEpoch ? el('span', { class: 'muted cmp-epoch' }, 'epoch ' + r.e) : null,
    el('span', { class: 'cmp-marks' },
      pr.a ? markView(markOf(pr.a, jd), graded) : el('span', { class: 'muted' }, '∅'),
      el('span', { class: 'cmp-arrow' }, '→'),
      pr.b ? markView(markOf(pr.b, jd), graded) : el('span', { class: 'muted' }, '∅')),
    el('span', { class: ['cmp-d', 'num', it.d > 0 && 'pos', it.d < 0 && 'neg', it.d === null && 'unscored'], title: 'score of B − score of A' }, it.d === null ? (pr.a && pr.b ? 'unscored' : '') : cmp_fmtD(it.d))),
  el('div', { class: 'cmp-item-outs' }, cmp_outLine(pr.a, 'A'), cmp_outLine(pr.b, 'B')));
}

// cmp_list renders the ordered examples, in sections, cmp_pageSize at a
// time per section.
function cmp_list(p, j, items, cj) {
  const c = cmp_comparisons()[p];
  const jd = cj ? cmp_docJudge(cj.judge) : -1;
  const graded = jd >= 0 && judgeGraded(jd);
  const showEpoch = items.some((it) => it.e > 0);
  const list = el('div', { id: 'compare-list' });
  if (!items.length) {
    list.appendChild(el('p', { class: 'empty' }, 'No results to compare.'));
    return list;
  }
  const byGroup = new Map(cmp_groups.map((g) => [g, []]));
  for (const it of items) byGroup.get(it.change).push(it);
  const summary = el('div', { class: 'cmp-summary' });
  for (const g of cmp_groups) {
    const arr = byGroup.get(g);
    if (!arr.length) continue;
    summary.appendChild(el('button', { type: 'button', class: ['cmp-chip', 'change-' + g], on: { click: () => { const h = document.getElementById('cmp-group-' + g); if (h) h.scrollIntoView({ block: 'start' }); } } }, cmp_groupTitle(g, arr.length, c)));
  }
  list.appendChild(summary);
  for (const g of cmp_groups) {
    const arr = byGroup.get(g);
    if (!arr.length) continue;
    const box = el('div', { class: 'cmp-items' });
    const more = el('button', { type: 'button', class: 'cmp-more' });
    let shown = 0;
    const showMore = () => {
      const frag = document.createDocumentFragment();
      const end = Math.min(arr.length, shown + cmp_pageSize);
      for (; shown < end; shown++) frag.appendChild(cmp_item(arr[shown], p, j, jd, graded, showEpoch));
      box.appendChild(frag);
      colourSwatches(box);
      if (shown >= arr.length) more.remove();
      else clear(more).appendChild(document.createTextNode('show ' + Math.min(cmp_pageSize, arr.length - shown) + ' more of ' + (arr.length - shown) + ' left'));
    };
    more.addEventListener('click', showMore);
    showMore();
    list.appendChild(el('section', { class: ['cmp-group', 'group-' + g], 'data-group': g },
      el('h3', { class: ['cmp-group-title', 'change-' + g], id: 'cmp-group-' + g }, cmp_groupTitle(g, arr.length, c)),
      box, shown < arr.length ? more : null));
  }
  return list;
}

// cmp_input shows a row's input fields as key/values.
function cmp_input(row) {
  const o = parseInput(row);
  const box = el('div', { class: 'cmp-input' }, el('div', { class: 'cmp-h' }, 'Input'));
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    box.appendChild(el('pre', { class: 'cmp-pre' }, prettyText(row.in || '')));
    return box;
  }
  const dl = el('dl', { class: 'cmp-kv' });
  for (const [k, v] of Object.entries(o)) {
    dl.append(el('dt', null, k), el('dd', null, el('pre', null, typeof v === 'string' ? v : JSON.stringify(v, null, 2))));
  }
  box.appendChild(dl);
  return box;
}

// cmp_marks is the judges' verdicts with reasons (used when the trace
// view's renderMarks is not there).
function cmp_marks(row) {
  const box = el('div', { class: 'cmp-marks-list' });
  doc.judges.forEach((jj, i) => {
    const m = markOf(row, i);
    box.appendChild(el('div', { class: 'score', 'data-judge': jj.name },
      el('span', { class: 'cmp-judge-name' }, jj.name), ' ', markView(m, judgeGraded(i)),
      m && (m.r || m.e) ? el('div', { class: ['cmp-reason', m.st === 'judge_error' && 'bad'] }, m.r || m.e) : null));
  });
  return box;
}

// cmp_sideCol is one result in full: status, error, output, expected,
// verdicts, latency, tokens and cost.
function cmp_sideCol(row, name, tag) {
  const head = el('div', { class: 'side-head' }, el('span', { class: 'cmp-ab' }, tag), cmp_sideLabel(name),
    row ? el('span', { class: ['badge', row.st === 'ok' ? 'badge-ok' : 'badge-error'] }, row.st) : null);
  if (!row) return el('div', { class: 'side side-missing', 'data-which': tag.toLowerCase() }, head, el('p', { class: 'empty' }, 'No result for this example and epoch.'));
  const marks = typeof renderMarks === 'function' ? renderMarks(row) : cmp_marks(row);
  return el('div', { class: ['side', row.st !== 'ok' && 'side-failed'], 'data-which': tag.toLowerCase(), 'data-row': row._i },
    head,
    row.st !== 'ok' ? el('div', { class: 'side-error' },
      row.fs && !String(row.err || '').includes(row.fs) ? el('strong', null, 'step ' + row.fs + ': ') : null, row.err || row.st) : null,
    el('div', { class: 'cmp-h' }, 'Output'),
    row.out === '' ? el('div', { class: 'muted cmp-empty-out' }, '(empty)') : el('pre', { class: 'cmp-pre side-output' }, row.out),
    row.exp !== null && row.exp !== undefined ? [el('div', { class: 'cmp-h' }, 'Expected'), el('pre', { class: 'cmp-pre side-expected' }, row.exp)] : null,
    el('div', { class: 'cmp-h' }, 'Judges'), marks,
    el('div', { class: 'side-metrics' },
      el('span', null, el('span', { class: 'muted' }, 'latency '), fmtMs(row.lat)),
      el('span', null, el('span', { class: 'muted' }, 'tokens '), fmtNum(row.pt) + ' → ' + fmtNum(row.ct)),
      el('span', null, el('span', { class: 'muted' }, 'cost '), fmtCost(row.cost))));
}

// cmp_spanList is an indented list of spans (used when the trace view's
// renderTimeline is not there).
function cmp_spanList(spans, opts) {
  const box = el('div', { class: 'cmp-spanlist' });
  for (const s of spanTree(spans.slice())) {
    const node = el('div', {
      class: ['span', 'cmp-spanline', kindClass(s.k), s.st === 'error' && 'failed', opts.selected === s.id && 'selected'],
      'data-span-id': s.id, 'data-kind': s.k, tabindex: '0',
      on: { click: () => opts.onSelect(s), keydown: (e) => { if (e.key === 'Enter') opts.onSelect(s); } },
    },
    el('span', { class: 'cmp-kind' }, s.k), el('span', { class: 'cmp-span-name' }, s.n),
    el('span', { class: 'num muted' }, fmtMs(s.d)));
    node.style.paddingLeft = (6 + 16 * s._depth) + 'px';
    box.appendChild(node);
  }
  return box;
}

// cmp_spanDetail is a span's input, output and metadata (used when the
// trace view's renderSpanDetail is not there).
function cmp_spanDetail(s) {
  const attrs = Object.entries(s.a || {});
  return el('div', { class: 'cmp-spandetail' },
    el('div', { class: 'cmp-spandetail-head' }, el('span', { class: ['cmp-kind', kindClass(s.k)] }, s.k), el('strong', null, s.n),
      el('span', { class: 'muted' }, ' ' + fmtMs(s.d)), el('span', { class: ['badge', s.st === 'ok' ? 'badge-ok' : 'badge-error'] }, s.st)),
    s.err ? el('div', { class: 'span-error side-error' }, s.err) : null,
    el('div', { class: 'cmp-h' }, 'Input'), el('pre', { class: 'cmp-pre' }, prettyText(s.in || '')),
    el('div', { class: 'cmp-h' }, 'Output'), el('pre', { class: 'cmp-pre' }, prettyText(s.out || '')),
    attrs.length ? el('dl', { class: 'cmp-kv cmp-attrs' }, attrs.map(([k, v]) => [el('dt', null, k), el('dd', null, typeof v === 'string' ? v : JSON.stringify(v))])) : null);
}

// cmp_children orders a trace's spans as a tree: roots and each span's
// children in start order (spanTree's order).
function cmp_children(spans) {
  const ordered = spanTree(spans.slice());
  const ids = new Set(ordered.map((s) => s.id));
  const kids = new Map();
  const roots = [];
  for (const s of ordered) {
    if (s.p && ids.has(s.p)) {
      if (!kids.has(s.p)) kids.set(s.p, []);
      kids.get(s.p).push(s);
    } else roots.push(s);
  }
  return { roots, kids };
}

// cmp_keys names siblings by name and occurrence among same-named
// siblings ("answer#0", "answer#1").
function cmp_keys(list) {
  const seen = new Map();
  return list.map((s) => {
    const n = seen.get(s.n) || 0;
    seen.set(s.n, n + 1);
    return s.n + '#' + n;
  });
}

// cmp_align aligns two traces' spans by their path of names from the
// root (with each name's occurrence among its siblings), in tree order:
// spans only one trace has sit against an empty cell.
function cmp_align(spansA, spansB) {
  const ta = cmp_children(spansA);
  const tb = cmp_children(spansB);
  const out = [];
  const merge = (la, lb, depth, path) => {
    const ka = cmp_keys(la);
    const kb = cmp_keys(lb);
    const inA = new Set(ka);
    const posB = new Map(kb.map((k, i) => [k, i]));
    const used = new Set();
    const emit = (a, b, key) => {
      const p = path ? path + '/' + key : key;
      out.push({ a, b, depth, path: p });
      merge(a ? ta.kids.get(a.id) || [] : [], b ? tb.kids.get(b.id) || [] : [], depth + 1, p);
    };
    let i = 0;
    let j = 0;
    while (i < la.length || j < lb.length) {
      if (j < lb.length && used.has(j)) { j++; continue; }
      if (i >= la.length) { used.add(j); emit(null, lb[j], kb[j]); j++; continue; }
      if (j < lb.length && kb[j] === ka[i]) { used.add(j); emit(la[i], lb[j], ka[i]); i++; j++; continue; }
      if (j < lb.length && !inA.has(kb[j])) { used.add(j); emit(null, lb[j], kb[j]); j++; continue; }
      const jb = posB.get(ka[i]);
      if (jb !== undefined && !used.has(jb)) { used.add(jb); emit(la[i], lb[jb], ka[i]); } else emit(la[i], null, ka[i]);
      i++;
    }
  };
  merge(ta.roots, tb.roots, 0, '');
  for (const r of out) {
    r.matched = !!(r.a && r.b);
    r.inSame = r.matched ? (r.a.in || '') === (r.b.in || '') : null;
    r.outSame = r.matched ? (r.a.out || '') === (r.b.out || '') : null;
    r.changed = r.matched && !(r.inSame && r.outSame);
  }
  // The first change: the first changed span in tree order whose input
  // changed, or whose output changed while none of the spans under it
  // changed (a parent's output only repeats its children's).
  let first = -1;
  for (let k = 0; k < out.length && first < 0; k++) {
    const r = out[k];
    if (!r.changed) continue;
    if (!r.inSame) { first = k; break; }
    let below = false;
    for (let m = k + 1; m < out.length && out[m].depth > r.depth; m++) if (out[m].changed) { below = true; break; }
    if (!below) first = k;
  }
  if (first < 0) first = out.findIndex((r) => r.changed);
  if (first >= 0) out[first].first = true;
  return out;
}

// cmp_firstNote is the one-line note on the first difference.
function cmp_firstNote(rows) {
  const f = rows.find((r) => r.first);
  if (!f) {
    const unmatched = rows.filter((r) => !r.matched).length;
    return el('div', { class: 'cmp-first-note same' }, unmatched
      ? 'The matched spans have the same inputs and outputs; ' + unmatched + ' span' + (unmatched > 1 ? 's are' : ' is') + ' in one trace only.'
      : 'No difference in any span\'s input or output.');
  }
  const s = f.a || f.b;
  const what = !f.inSame ? 'input' : 'output';
  const noun = s.k === 'judge' ? 'judge' : s.k === 'chain' ? 'chain' : 'step';
  return el('div', { class: 'cmp-first-note' }, 'First difference: ' + noun + ' ', el('strong', { class: 'mono' }, s.n), '\'s ' + what,
    !f.inSame && !f.outSame ? el('span', { class: 'muted' }, ' (and its output)') : null);
}

// cmp_indicator is a same/changed marker.
function cmp_indicator(label, same) {
  if (same === null) return el('span', { class: 'cmp-ind cmp-ind-na' }, '–');
  return el('span', { class: ['cmp-ind', same ? 'cmp-ind-same' : 'cmp-ind-changed'], title: label + (same ? ' same' : ' changed') }, label + ' ' + (same ? 'same' : 'changed'));
}

// cmp_spanCell is one side's duration and status of an aligned span.
function cmp_spanCell(s) {
  if (!s) return el('span', { class: 'align-cell align-none muted' }, 'absent');
  return el('span', { class: ['align-cell', s.st !== 'ok' && 'bad'] }, fmtMs(s.d), ' ',
    el('span', { class: ['align-st', s.st === 'ok' ? 'ok' : 'err'] }, s.st === 'ok' ? '✓' : '✗ ' + s.st));
}

// cmp_ioDetail shows both spans' input and output side by side.
function cmp_ioDetail(r) {
  const col = (s, tag) => el('div', { class: 'align-io-col' },
    el('div', { class: 'cmp-h' }, tag + (s ? ' · ' + s.n : '')),
    s ? [
      s.err ? el('div', { class: 'side-error' }, s.err) : null,
      el('div', { class: ['cmp-h', 'sub', r.inSame === false && 'changed'] }, 'input' + (r.inSame === false ? ' (changed)' : '')),
      el('pre', { class: 'cmp-pre' }, prettyText(s.in || '')),
      el('div', { class: ['cmp-h', 'sub', r.outSame === false && 'changed'] }, 'output' + (r.outSame === false ? ' (changed)' : '')),
      el('pre', { class: 'cmp-pre' }, prettyText(s.out || '')),
    ] : el('p', { class: 'muted' }, 'No such span in this trace.'));
  return el('div', { class: 'align-io' }, col(r.a, 'A'), col(r.b, 'B'));
}

// cmp_aligned is the aligned span tree; onPick(row) is called when a row
// is opened.
function cmp_aligned(rows, onPick) {
  const box = el('div', { id: 'aligned' },
    el('div', { class: 'cmp-h2' }, 'Aligned span trees', el('span', { class: 'muted' }, ' · spans matched by their path of names')),
    cmp_firstNote(rows));
  if (!rows.length) {
    box.appendChild(el('p', { class: 'empty' }, 'Neither result has spans.'));
    return box;
  }
  const table = el('div', { class: 'align-table', role: 'table' },
    el('div', { class: 'align-head', role: 'row' }, el('span', null, 'span'), el('span', null, 'A'), el('span', null, 'B'), el('span', null, 'input'), el('span', null, 'output')));
  let openRow = null;
  let openDetail = null;
  const toggle = (node, r) => {
    if (openDetail) openDetail.remove();
    if (openRow) openRow.classList.remove('open');
    if (openRow === node) { openRow = null; openDetail = null; return; }
    openRow = node;
    openRow.classList.add('open');
    openDetail = cmp_ioDetail(r);
    node.after(openDetail);
    if (onPick) onPick(r);
  };
  for (const r of rows) {
    const s = r.a || r.b;
    const name = el('span', { class: 'align-name' },
      el('span', { class: ['cmp-kind', kindClass(s.k)] }, s.k), el('span', { class: 'align-span-name', title: r.path }, s.n),
      r.first ? el('span', { class: 'first-label' }, 'first change') : null,
      !r.matched ? el('span', { class: 'align-only' }, r.a ? 'only in A' : 'only in B') : null);
    name.style.paddingLeft = (4 + 18 * r.depth) + 'px';
    const node = el('div', {
      class: ['align-row', r.changed && 'changed', r.first && 'first-change', !r.matched && 'unmatched'],
      role: 'row', tabindex: '0', 'data-path': r.path, 'data-depth': r.depth,
    },
    name, cmp_spanCell(r.a), cmp_spanCell(r.b), cmp_indicator('input', r.inSame), cmp_indicator('output', r.outSame));
    node.addEventListener('click', () => toggle(node, r));
    node.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(node, r); } });
    table.appendChild(node);
  }
  box.appendChild(table);
  return box;
}

// cmp_timelines draws both traces' timelines; selecting a span shows its
// detail below its timeline. It returns {node, select(which, span)}.
function cmp_timelines(spansA, spansB, c, initial) {
  const sel = { a: initial.a || null, b: initial.b || null };
  const spans = { a: spansA, b: spansB };
  const cols = {};
  const draw = (which) => {
    const col = cols[which];
    clear(col.body);
    clear(col.detail);
    const list = spans[which];
    if (list === null) { col.body.appendChild(el('p', { class: 'empty' }, 'No result.')); return; }
    if (!list.length) { col.body.appendChild(el('p', { class: 'empty' }, 'No spans recorded.')); return; }
    const opts = { selected: sel[which], onSelect: (s) => { sel[which] = s ? s.id : null; draw(which); }, compact: true };
    col.body.appendChild(typeof renderTimeline === 'function' ? renderTimeline(list, opts) : cmp_spanList(list, opts));
    const span = list.find((s) => s.id === sel[which]);
    if (span) col.detail.appendChild(typeof renderSpanDetail === 'function' ? renderSpanDetail(span) : cmp_spanDetail(span));
    else col.detail.appendChild(el('p', { class: 'muted cmp-hint' }, 'Select a span to see its input and output.'));
  };
  const node = el('div', { class: 'cmp-timelines' });
  for (const [which, name, tag] of [['a', c.a, 'A'], ['b', c.b, 'B']]) {
    cols[which] = {
      body: el('div', { class: 'cmp-tl-body' }),
      detail: el('div', { class: 'cmp-span-detail' }),
    };
    node.appendChild(el('div', { class: 'cmp-tl', 'data-which': which },
      el('div', { class: 'side-head' }, el('span', { class: 'cmp-ab' }, tag), cmp_sideLabel(name), el('span', { class: 'muted' }, ' timeline')),
      cols[which].body, cols[which].detail));
    draw(which);
  }
  return {
    node,
    select(a, b) {
      sel.a = a ? a.id : sel.a;
      sel.b = b ? b.id : sel.b;
      draw('a');
      draw('b');
      colourSwatches(node);
    },
  };
}

// cmp_scroll remembers where the list was scrolled, to come back to it.
const cmp_scroll = { key: '', y: 0, row: null };

// cmp_open draws the side-by-side view of row ri's pair.
async function cmp_open(section, p, j, ri, items) {
  const c = cmp_comparisons()[p];
  const { byRow } = cmp_pairsOf(p);
  const pr = byRow.get(ri);
  const back = el('button', { type: 'button', id: 'compare-back', on: { click: () => go('compare', p, j) } }, '← all examples');
  if (!pr) {
    section.appendChild(el('div', { id: 'side-by-side' }, el('div', { class: 'cmp-nav' }, back),
      el('p', { class: 'empty' }, 'Row ' + ri + ' is not part of this comparison.')));
    return;
  }
  const pos = items.findIndex((it) => it.pr === pr);
  const it = items[pos];
  const targetOf = (x) => (x.pr.b || x.pr.a)._i;
  const prev = el('button', { type: 'button', class: 'cmp-prev', disabled: pos <= 0, title: 'previous example in the list',
    on: { click: () => go('compare', p, j, targetOf(items[pos - 1])) } }, '↑ previous');
  const next = el('button', { type: 'button', class: 'cmp-next', disabled: pos < 0 || pos >= items.length - 1, title: 'next example in the list',
    on: { click: () => go('compare', p, j, targetOf(items[pos + 1])) } }, 'next ↓');
  const r = pr.a || pr.b;
  const nav = el('div', { class: 'cmp-nav' }, back, prev, next,
    el('span', { class: 'cmp-nav-title' },
      el('span', { class: 'muted' }, 'example '), el('strong', { class: 'mono cmp-id' }, r.id),
      r.e > 0 || items.some((x) => x.e > 0) ? el('span', { class: 'muted' }, ' · epoch ' + r.e) : null),
    it ? el('span', { class: ['cmp-chip', 'change-' + it.change] }, it.change + (it.d !== null ? ' ' + cmp_fmtD(it.d) : '')) : null,
    pos >= 0 ? el('span', { class: 'muted' }, (pos + 1) + ' of ' + items.length) : null);
  const tlBox = el('div', { class: 'cmp-tl-wrap' }, el('p', { class: 'muted' }, 'Loading traces…'));
  const alignBox = el('div', { class: 'cmp-align-wrap' });
  const sbs = el('div', { id: 'side-by-side', 'data-row-a': pr.a ? pr.a._i : null, 'data-row-b': pr.b ? pr.b._i : null },
    nav,
    cmp_input(r),
    el('div', { class: 'sides' }, cmp_sideCol(pr.a, c.a, 'A'), cmp_sideCol(pr.b, c.b, 'B')),
    el('div', { class: 'cmp-h2' }, 'Timelines'),
    tlBox,
    alignBox);
  section.appendChild(sbs);
  colourSwatches(sbs);
  cmp_scroll.row = ri;
  sbs.addEventListener('keydown', (e) => { if (e.key === 'Escape') go('compare', p, j); });
  back.focus({ preventScroll: true });
  if (sbs.getBoundingClientRect().top < 0) sbs.scrollIntoView({ block: 'start' });

  let spansA = null;
  let spansB = null;
  try {
    [spansA, spansB] = await Promise.all([pr.a ? loadSpans(pr.a) : null, pr.b ? loadSpans(pr.b) : null]);
  } catch (e) {
    clear(tlBox).appendChild(el('p', { class: 'load-error' }, 'Could not load the traces: ' + (e && e.message ? e.message : String(e))));
    return;
  }
  const rows = cmp_align(spansA || [], spansB || []);
  const first = rows.find((x) => x.first);
  const tl = cmp_timelines(spansA, spansB, c, { a: first && first.a ? first.a.id : null, b: first && first.b ? first.b.id : null });
  clear(tlBox).appendChild(tl.node);
  alignBox.appendChild(cmp_aligned(rows, (x) => tl.select(x.a, x.b)));
  colourSwatches(sbs);
}

registerView({
  id: 'compare',
  label: 'Compare',
  available: () => doc.mode !== 'index' && doc.mode !== 'traffic' && cmp_comparisons().length > 0,
  async render(section, args) {
    const { p, j, r } = cmp_args(args);
    const c = cmp_comparisons()[p];
    section.append(cmp_controls(p, j), cmp_figures(p, j));
    const { pairs } = cmp_pairsOf(p);
    const cj = (c.judges || [])[j];
    const jd = cj ? cmp_docJudge(cj.judge) : -1;
    const items = cmp_classify(pairs, jd);
    const key = p + '/' + j;
    if (r !== null) {
      await cmp_open(section, p, j, r, items);
      colourSwatches(section);
      return;
    }
    section.appendChild(cmp_list(p, j, items, cj));
    colourSwatches(section);
    if (cmp_scroll.key === key) {
      const y = cmp_scroll.y;
      const back = cmp_scroll.row !== null ? section.querySelector('.compare-item[data-row="' + cmp_scroll.row + '"]') : null;
      if (back) back.focus({ preventScroll: true });
      if (y > 0) requestAnimationFrame(() => window.scrollTo(0, y));
    }
    cmp_scroll.key = key;
    cmp_scroll.y = 0;
    cmp_scroll.row = null;
  },
});

// Remember the list's scroll position when an example is opened.
window.addEventListener('scroll', () => {
  if (G.current && G.current.id === 'compare' && document.getElementById('compare-list')) cmp_scroll.y = window.scrollY;
}, { passive: true });
