// Architecture view: each run's chain as the spec and the run resolved it,
// per variant (model, parameters, prompt, variables, steps) and the
// judges. A value that differs between the variants of a run is
// highlighted (class `diff`); comparing two runs, a value that differs
// between the runs' same-named variants is marked too (class `diff-run`).
// Every value is shown as text.

// ar_stepKinds maps a step kind of the spec to the span kind its spans
// carry, for colouring.
const ar_stepKinds = { llm: 'llm', template: 'template', extract: 'parser', http: 'tool', exec: 'tool', field: 'parser' };

function ar_kindClass(kind) {
  return kindClass(ar_stepKinds[kind] || kind);
}

// ar_sideOf returns the side index of variant name in run k, or -1.
function ar_sideOf(k, name) {
  return doc.sides.findIndex((s) => s.run === k && s.variant === name);
}

// ar_diffKeys returns, per variant of run, the set of flat keys whose
// value differs from (or is missing in) another variant of the run.
function ar_diffKeys(run) {
  const vs = run.variants || [];
  const out = vs.map(() => new Set());
  if (vs.length < 2) return out;
  const keys = new Set();
  vs.forEach((v) => Object.keys(v.flat || {}).forEach((k) => keys.add(k)));
  for (const k of keys) {
    const vals = vs.map((v) => (v.flat && Object.prototype.hasOwnProperty.call(v.flat, k) ? v.flat[k] : undefined));
    if (vals.every((x) => x === vals[0])) continue;
    out.forEach((set) => set.add(k));
  }
  return out;
}

// ar_runDiffKeys returns, per variant of run k, the flat keys that differ
// from the same-named variant of the other run (comparing two runs).
function ar_runDiffKeys(k) {
  const run = doc.runs[k];
  const other = doc.runs[1 - k];
  return (run.variants || []).map((v) => {
    const set = new Set();
    const o = (other.variants || []).find((x) => x.name === v.name);
    if (!o) return set;
    const a = v.flat || {};
    const b = o.flat || {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[key] !== b[key]) set.add(key);
    return set;
  });
}

// ar_valueText renders a leaf value as text, as the flat map does.
function ar_valueText(v) {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// ar_param is one parameter line. ctx: {diff: Set, runDiff: Set|null,
// others: [{name, flat}]} for the highlight and its tooltip. keys are the
// flat keys the line shows (the first is its data-key).
function ar_param(ctx, keys, label, value, extraClass) {
  const text = value === null || value === undefined ? '' : String(value);
  const long = text.length > 60 || text.includes('\n');
  const isDiff = ctx && keys.some((k) => ctx.diff.has(k));
  const isRunDiff = ctx && ctx.runDiff && keys.some((k) => ctx.runDiff.has(k));
  let title = keys[0];
  if (isDiff && ctx.others) {
    const parts = ctx.others.map((o) => o.name + ': ' + (o.flat && o.flat[keys[0]] !== undefined ? excerpt(o.flat[keys[0]], 60) : '(not set)'));
    title += '\ndiffers from ' + parts.join('; ');
  }
  if (isRunDiff && ctx.otherRun) {
    const ov = ctx.otherRun.flat ? ctx.otherRun.flat[keys[0]] : undefined;
    title += '\nother run: ' + (ov !== undefined ? excerpt(ov, 60) : '(not set)');
  }
  return el('div', {
    class: ['arch-param', isDiff && 'diff', isRunDiff && 'diff-run', long && 'arch-long', extraClass],
    'data-key': keys[0], title,
  },
  el('span', { class: 'arch-k' }, label),
  el('span', { class: ['arch-v', text === '[redacted]' && 'arch-redacted'] }, text === '' ? '""' : text));
}

// ar_isMessages reports whether v is a list of chat messages.
function ar_isMessages(v) {
  return Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === 'object' && !Array.isArray(m) && 'role' in m && 'content' in m);
}

// ar_message is one chat message line: its role and its text.
function ar_message(ctx, keys, role, content) {
  const line = ar_param(ctx, keys, '', content, 'arch-msg');
  const k = line.querySelector('.arch-k');
  k.appendChild(el('span', { class: ['arch-role', 'role-' + (['system', 'user', 'assistant'].includes(role) ? role : 'other')] }, role));
  return line;
}

// ar_leaves appends a line per leaf of v (under the dotted key prefix and
// the label prefix), the way report/html.go flattens configurations: null
// and empty strings are left out; chat message lists get a line per
// message.
function ar_leaves(out, ctx, prefix, label, v) {
  if (v === null || v === undefined) return;
  if (typeof v === 'string') {
    if (v !== '') out.push(ar_param(ctx, [prefix], label, v));
    return;
  }
  if (ar_isMessages(v)) {
    v.forEach((m, i) => {
      const content = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
      out.push(ar_message(ctx, [prefix + '.' + i + '.content', prefix + '.' + i + '.role'], String(m.role), content));
    });
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((e, i) => ar_leaves(out, ctx, prefix + '.' + i, label + '[' + i + ']', e));
    return;
  }
  if (typeof v === 'object') {
    for (const [k, e] of Object.entries(v)) ar_leaves(out, ctx, prefix + '.' + k, label ? label + '.' + k : k, e);
    return;
  }
  out.push(ar_param(ctx, [prefix], label, ar_valueText(v)));
}

// ar_block is a titled group of lines (nothing when there are none).
function ar_block(title, lines, cls) {
  if (!lines.length) return null;
  return el('div', { class: ['arch-block', cls] }, el('div', { class: 'arch-block-title' }, title), lines);
}

// ar_variant is the card of one variant of run k.
function ar_variant(k, v, ctx) {
  const side = ar_sideOf(k, v.name);
  const head = el('div', { class: 'arch-variant-head' },
    side >= 0 ? el('span', { class: 'swatch', 'data-side': side }) : null,
    el('strong', { class: 'arch-variant-name' }, v.name),
    v.hash ? el('span', { class: 'arch-hash mono', title: 'variant hash' }, v.hash) : null);

  const model = [];
  if (v.model) model.push(ar_param(ctx, ['model'], 'model', v.model));
  if (v.provider) model.push(ar_param(ctx, ['provider'], 'provider', v.provider));
  if (v.base_url) model.push(ar_param(ctx, ['base_url'], 'base_url', v.base_url));
  if (v.params !== null && v.params !== undefined) {
    if (typeof v.params === 'object' && !Array.isArray(v.params)) {
      for (const [pk, pv] of Object.entries(v.params)) ar_leaves(model, ctx, 'params.' + pk, pk, pv);
    } else ar_leaves(model, ctx, 'params', 'params', v.params);
  }

  const prompt = [];
  if (v.prompt) {
    if (v.prompt.ref) prompt.push(ar_param(ctx, ['prompt.ref'], 'ref', v.prompt.ref));
    if (v.prompt.hash) prompt.push(ar_param(ctx, ['prompt.hash'], 'hash', v.prompt.hash));
    (v.prompt.messages || []).forEach((m, i) => {
      prompt.push(ar_message(ctx, ['prompt.messages.' + i + '.' + m.role], m.role, m.content));
    });
  }

  const vars = [];
  if (v.vars) for (const [vk, vv] of Object.entries(v.vars)) ar_leaves(vars, ctx, 'vars.' + vk, vk, vv);

  const chain = el('ol', { class: 'arch-chain' });
  (v.steps || []).forEach((s) => {
    const lines = [];
    for (const [ck, cv] of Object.entries(s.config || {})) ar_leaves(lines, ctx, 'steps.' + s.name + '.' + ck, ck, cv);
    const kindKey = 'steps.' + s.name + '.kind';
    const headLine = ar_param(ctx, [kindKey], '', '', 'arch-step-head');
    const hk = headLine.querySelector('.arch-k');
    hk.append(el('span', { class: 'arch-step-name' }, s.name), ' ',
      el('span', { class: ['arch-kind', ar_kindClass(s.kind)] }, s.kind));
    clear(headLine.querySelector('.arch-v'));
    chain.appendChild(el('li', { class: 'arch-step', 'data-step': s.name }, headLine,
      lines.length ? el('div', { class: 'arch-step-config' }, lines) : el('div', { class: 'arch-step-config muted' }, 'no settings')));
  });

  return el('div', { class: 'arch-variant', 'data-variant': v.name }, head,
    ar_block('Model', model, 'arch-model'),
    ar_block('Prompt', prompt, 'arch-prompt'),
    ar_block('Variables', vars, 'arch-vars'),
    el('div', { class: 'arch-block' }, el('div', { class: 'arch-block-title' }, 'Chain · ' + (v.steps || []).length + ' step' + ((v.steps || []).length === 1 ? '' : 's')), chain));
}

// ar_judge is the card of one judge of run k.
function ar_judge(k, j) {
  let ctx = null;
  if (doc.runs.length === 2) {
    const o = (doc.runs[1 - k].judges || []).find((x) => x.name === j.name);
    ctx = { diff: new Set(), runDiff: new Set(), others: null, otherRun: null };
    if (o) {
      const mine = [];
      const theirs = [];
      ar_leaves(mine, null, 'judges.' + j.name, '', j.config || {});
      ar_leaves(theirs, null, 'judges.' + j.name, '', o.config || {});
      const val = (lines) => new Map(lines.map((l) => [l.dataset.key, l.querySelector('.arch-v').textContent]));
      const a = val(mine);
      const b = val(theirs);
      for (const key of new Set([...a.keys(), ...b.keys()])) if (a.get(key) !== b.get(key)) ctx.runDiff.add(key);
      if (j.type !== o.type) ctx.runDiff.add('judges.' + j.name + '.type');
      if (j.hash !== o.hash) ctx.runDiff.add('judges.' + j.name + '.hash');
    }
  }
  const lines = [];
  ar_leaves(lines, ctx, 'judges.' + j.name, '', j.config || {});
  const typeLine = ar_param(ctx, ['judges.' + j.name + '.type'], 'type', j.type);
  const hashLine = j.hash ? ar_param(ctx, ['judges.' + j.name + '.hash'], 'hash', j.hash) : null;
  return el('div', { class: 'arch-judge', 'data-judge': j.name },
    el('div', { class: 'arch-judge-head' },
      el('span', { class: ['arch-kind', 'kind-judge'] }, 'judge'), ' ',
      el('strong', null, j.name)),
    el('div', { class: 'arch-judge-meta' }, typeLine, hashLine),
    lines.length ? el('div', { class: 'arch-judge-config' }, lines) : null);
}

// ar_fact is one labelled fact of a run; mark flags a difference between
// the two compared runs.
function ar_fact(label, value, mark, mono) {
  if (value === null || value === undefined || value === '') return null;
  return el('div', { class: ['arch-fact', mark && 'diff-run'] },
    el('dt', null, label), el('dd', { class: mono ? 'mono' : null }, String(value)));
}

// ar_runFacts lists the run's dataset, tool, git commit, spec and repeat.
function ar_runFacts(k) {
  const r = doc.runs[k];
  const o = doc.runs.length === 2 ? doc.runs[1 - k] : null;
  const ds = r.dataset || {};
  const ods = (o && o.dataset) || {};
  const tool = r.tool || {};
  const otool = (o && o.tool) || {};
  const differs = (a, b) => o !== null && a !== b;
  const git = r.git ? r.git.commit + (r.git.branch ? ' (' + r.git.branch + ')' : '') : '';
  const ogit = o && o.git ? o.git.commit + (o.git.branch ? ' (' + o.git.branch + ')' : '') : '';
  const toolText = [tool.name, tool.version].filter(Boolean).join(' ') + (tool.commit ? ' · ' + tool.commit : '');
  const otoolText = [otool.name, otool.version].filter(Boolean).join(' ') + (otool.commit ? ' · ' + otool.commit : '');
  const sample = [ds.limit ? 'limit ' + ds.limit : '', ds.sample ? 'sample ' + ds.sample : '', ds.seed ? 'seed ' + ds.seed : ''].filter(Boolean).join(' · ');
  return el('dl', { class: 'arch-facts' },
    ar_fact('dataset', ds.path, differs(ds.path, ods.path), true),
    ar_fact('format', ds.format, differs(ds.format, ods.format)),
    ar_fact('fingerprint', ds.fingerprint, differs(ds.fingerprint, ods.fingerprint), true),
    ar_fact('examples', ds.examples !== undefined ? fmtNum(ds.examples) + (sample ? ' (' + sample + ')' : '') : null, differs(ds.examples, ods.examples)),
    ar_fact('id template', ds.id, differs(ds.id, ods.id), true),
    ar_fact('tool', toolText, differs(toolText, otoolText)),
    ar_fact('git commit', git, differs(git, ogit), true),
    ar_fact('spec', r.spec_path, differs(r.spec_path, o && o.spec_path), true),
    ar_fact('spec hash', r.spec_hash, differs(r.spec_hash, o && o.spec_hash), true),
    ar_fact('repeat', r.repeat, differs(r.repeat, o && o.repeat)),
    ar_fact('status', r.status + (r.mode ? ' · ' + r.mode : ''), false),
    ar_fact('started', r.started_at + (r.ended_at ? ' → ' + r.ended_at : ''), false, true));
}

// ar_run is the section of run k: facts, spec, variants, judges.
function ar_run(k) {
  const r = doc.runs[k];
  const two = doc.runs.length === 2;
  const diffs = ar_diffKeys(r);
  const runDiffs = two ? ar_runDiffKeys(k) : null;
  const variants = (r.variants || []).map((v, i) => {
    const others = r.variants.filter((x, xi) => xi !== i).map((x) => ({ name: x.name, flat: x.flat }));
    const otherRun = two ? (doc.runs[1 - k].variants || []).find((x) => x.name === v.name) || null : null;
    return ar_variant(k, v, { diff: diffs[i], runDiff: runDiffs ? runDiffs[i] : null, others, otherRun });
  });
  const head = two
    ? el('h2', { class: 'arch-run-title' }, el('span', { class: 'arch-run-letter' }, k === 0 ? 'A' : 'B'),
      el('span', { class: 'mono' }, r.run_id), r.name ? el('span', { class: 'arch-run-name' }, r.name) : null)
    : el('h2', { class: 'arch-run-title' }, r.name || r.run_id, r.name ? el('span', { class: 'arch-run-id mono' }, r.run_id) : null);
  const spec = r.spec
    ? el('details', { class: 'arch-spec' },
      el('summary', null, 'Spec', r.spec_path ? el('span', { class: 'mono muted' }, ' ' + r.spec_path) : null),
      el('pre', { class: 'arch-spec-text' }, r.spec))
    : null;
  const judges = r.judges || [];
  return el('div', { class: 'arch-run', 'data-run': k },
    head,
    ar_runFacts(k),
    spec,
    el('h3', { class: 'arch-h' }, 'Variants', el('span', { class: 'muted' }, ' ' + variants.length)),
    variants.length ? el('div', { class: ['arch-variants', variants.length > 3 && 'arch-many'] }, variants) : el('p', { class: 'empty' }, 'No variants recorded.'),
    el('h3', { class: 'arch-h' }, 'Judges', el('span', { class: 'muted' }, ' ' + judges.length)),
    judges.length ? el('div', { class: 'arch-judges' }, judges.map((j) => ar_judge(k, j))) : el('p', { class: 'empty' }, 'No judges.'));
}

// ar_legend explains the highlights.
function ar_legend() {
  return el('div', { class: 'arch-legend' },
    el('span', { class: 'arch-legend-item' }, el('span', { class: 'arch-legend-mark arch-legend-diff' }), 'highlighted: differs between variants'),
    doc.runs.length === 2
      ? el('span', { class: 'arch-legend-item' }, el('span', { class: 'arch-legend-mark arch-legend-run' }), 'outlined: differs between the two runs')
      : null,
    el('span', { class: 'arch-legend-item muted' }, 'hover a value for its key and the other values'));
}

registerView({
  id: 'architecture',
  label: 'Architecture',
  available: () => doc.mode !== 'index' && doc.mode !== 'traffic',
  render(section) {
    if (!doc.runs || !doc.runs.length) {
      section.appendChild(el('p', { class: 'empty' }, 'No run recorded its architecture.'));
      return;
    }
    section.appendChild(ar_legend());
    doc.runs.forEach((r, k) => section.appendChild(ar_run(k)));
    colourSwatches(section);
  },
});
