// Charts: the report's figures drawn as inline SVG (no libraries). Every
// chart is an svg.chart with a <title>, axes, a legend that uses the
// variants' colours and <title> tooltips with exact values. Figures come
// from doc.report; distributions are counted from the rows in one pass.

const CH_W = 520;
const CH_H = 270;
const CH_FONT = 11;

// ch_ok: x is a finite number.
function ch_ok(x) { return typeof x === 'number' && isFinite(x); }

// ch_c makes a coordinate safe for an SVG attribute: finite, rounded.
function ch_c(x) { return ch_ok(x) ? Math.round(x * 10) / 10 : 0; }

// ch_tw estimates the width of a text in the charts' font.
function ch_tw(s, size = CH_FONT) { return String(s).length * size * 0.58; }

// ch_round trims floating-point noise off a tick value.
function ch_round(v) { return Number(Number(v).toPrecision(12)); }

// ch_nice returns round tick values covering [min, max].
function ch_nice(min, max, count = 5) {
  if (!ch_ok(min) || !ch_ok(max)) return { lo: 0, hi: 1, ticks: [0, 1] };
  if (max <= min) {
    if (min === 0) return { lo: 0, hi: 1, ticks: [0, 0.5, 1] };
    const d = Math.abs(min) * 0.5;
    min -= d; max += d;
  }
  const raw = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  const step = (f >= 7.5 ? 10 : f >= 3.5 ? 5 : f >= 1.5 ? 2 : 1) * mag;
  const lo = ch_round(Math.floor(min / step + 1e-9) * step);
  const hi = ch_round(Math.ceil(max / step - 1e-9) * step);
  const ticks = [];
  for (let k = 0, v = lo; v <= hi + step / 2 && k < 50; k++, v = ch_round(lo + k * step)) ticks.push(v);
  if (!ticks.length || !(hi > lo)) return { lo: 0, hi: 1, ticks: [0, 1] };
  return { lo, hi, ticks };
}

// ch_label shortens a name for the chart; the full name goes in a title.
function ch_label(s, n = 26) { return excerpt(s, n); }

// ch_tip wraps a tooltip text as an SVG <title>.
function ch_tip(text) { return svg('title', null, text); }

// ch_signed formats a difference with its sign.
function ch_signed(x, pct) {
  if (!ch_ok(x)) return '–';
  const s = pct ? (x * 100).toFixed(1) + ' pp' : fmtNum(x);
  return (x > 0 ? '+' : x < 0 ? '' : '±') + s;
}

// ch_usd formats a tick of an axis in dollars, as short as it can be.
function ch_usd(x) {
  if (!ch_ok(x)) return '–';
  if (x === 0) return '$0';
  return '$' + Number(x.toPrecision(3)).toString();
}

// ch_tokens formats a token count compactly (1.2k, 3.4M).
function ch_tokens(x) {
  if (!ch_ok(x)) return '–';
  if (Math.abs(x) >= 1e6) return Number((x / 1e6).toPrecision(3)) + 'M';
  if (Math.abs(x) >= 1e3) return Number((x / 1e3).toPrecision(3)) + 'k';
  return String(ch_round(x));
}

// ch_frame starts a chart: the svg root with its <title>, the legend on
// top and the plot area; layers: grid, marks, overlay (lines), axes.
// o: {title, legend: [{label, full, color, kind}], w, h, left, bottom}.
function ch_frame(o) {
  const W = o.w || CH_W;
  const H = o.h || CH_H;
  const left = o.left || 56;
  const right = o.right || 16;
  const root = svg('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': o.title },
    svg('title', null, o.title));
  // Legend: items laid out left to right, wrapping.
  const leg = svg('g', { class: 'ch-legend' });
  let lx = left;
  let ly = 13;
  for (const it of o.legend || []) {
    const w = 18 + ch_tw(it.label) + 14;
    if (lx + w > W - right && lx > left) { lx = left; ly += 16; }
    const g = svg('g', { class: 'ch-legend-item' }, it.full ? ch_tip(it.full) : null);
    const sx = lx;
    const sy = ly - 8;
    if (it.kind === 'line' || it.kind === 'dash' || it.kind === 'dot') {
      g.appendChild(svg('line', { x1: ch_c(sx), y1: ch_c(sy + 4.5), x2: ch_c(sx + 13), y2: ch_c(sy + 4.5), stroke: it.color || null,
        class: ['ch-legend-line', 'ch-' + it.kind, it.cls || ''] }));
    } else {
      g.appendChild(svg('rect', { x: ch_c(sx), y: ch_c(sy), width: 10, height: 10, rx: 2, fill: it.color || null,
        class: ['ch-legend-box', it.cls || ''] }));
    }
    g.appendChild(svg('text', { x: ch_c(sx + 17), y: ch_c(ly + 1), class: 'ch-legend-text' }, it.label));
    leg.appendChild(g);
    lx += w;
  }
  const top = (o.legend && o.legend.length ? ly + 14 : 12);
  const bottom = o.bottom || 44;
  const c = {
    root, W, H, L: left, R: W - right, T: top, B: H - bottom,
    grid: svg('g', { class: 'ch-gridlines' }), marks: svg('g', { class: 'ch-marks' }),
    over: svg('g', { class: 'ch-overlay' }), axes: svg('g', { class: 'ch-axes' }),
  };
  root.append(leg, c.grid, c.marks, c.over, c.axes);
  return c;
}

// ch_yAxis draws the y axis (ticks, grid lines, title) and returns the
// scale. o: {lo, hi, ticks, fmt, title}.
function ch_yAxis(c, o) {
  const span = o.hi - o.lo || 1;
  const y = (v) => ch_c(c.B - ((v - o.lo) / span) * (c.B - c.T));
  for (const t of o.ticks) {
    const yy = y(t);
    c.grid.appendChild(svg('line', { x1: c.L, x2: c.R, y1: yy, y2: yy, class: t === o.lo ? 'ch-baseline' : 'ch-grid' }));
    c.axes.appendChild(svg('text', { x: c.L - 6, y: ch_c(yy + 3.5), class: 'ch-tick ch-tick-y' }, o.fmt(t)));
  }
  if (o.title) {
    const cy = ch_c((c.T + c.B) / 2);
    c.axes.appendChild(svg('text', { x: 0, y: 0, class: 'ch-axis-title', transform: 'translate(13 ' + cy + ') rotate(-90)' }, o.title));
  }
  return y;
}

// ch_xLinear draws a numeric x axis and returns its scale. o: {lo, hi,
// ticks, fmt, title, log}. With log, lo and hi are positive and values
// are placed by their logarithm.
function ch_xLinear(c, o) {
  const f = o.log ? (v) => Math.log10(Math.max(v, o.lo)) : (v) => v;
  const a = f(o.lo);
  const span = f(o.hi) - a || 1;
  const x = (v) => ch_c(c.L + ((f(v) - a) / span) * (c.R - c.L));
  c.axes.appendChild(svg('line', { x1: c.L, x2: c.R, y1: c.B, y2: c.B, class: 'ch-axis' }));
  for (const t of o.ticks) {
    const xx = x(t);
    if (xx < c.L - 0.5 || xx > c.R + 0.5) continue;
    c.axes.appendChild(svg('line', { x1: xx, x2: xx, y1: c.B, y2: c.B + 4, class: 'ch-axis' }));
    c.axes.appendChild(svg('text', { x: xx, y: c.B + 16, class: 'ch-tick ch-tick-x' }, o.fmt(t)));
  }
  if (o.title) c.axes.appendChild(svg('text', { x: ch_c((c.L + c.R) / 2), y: c.H - 6, class: 'ch-axis-title' }, o.title));
  return x;
}

// ch_xBand draws a categorical x axis with one band per label and returns
// {x(i): band left, bw: band width}. labels: [{label, full}].
function ch_xBand(c, labels, title, sub) {
  const n = Math.max(1, labels.length);
  const bw = (c.R - c.L) / n;
  c.axes.appendChild(svg('line', { x1: c.L, x2: c.R, y1: c.B, y2: c.B, class: 'ch-axis' }));
  const maxChars = Math.max(6, Math.floor(bw / (CH_FONT * 0.58)) - 1);
  labels.forEach((l, i) => {
    const cx = ch_c(c.L + bw * (i + 0.5));
    c.axes.appendChild(svg('text', { x: cx, y: c.B + 15, class: 'ch-tick ch-tick-x' }, ch_tip(l.full || l.label), excerpt(l.label, maxChars)));
    if (sub && sub[i]) {
      const t = sub[i].short && ch_tw(sub[i].text, 10) > bw - 4 ? sub[i].short : sub[i].text;
      c.axes.appendChild(svg('text', { x: cx, y: c.B + 28, class: ['ch-tick', 'ch-tick-x', 'ch-sub', sub[i].cls || ''] },
        sub[i].full ? ch_tip(sub[i].full) : null, t));
    }
  });
  if (title) c.axes.appendChild(svg('text', { x: ch_c((c.L + c.R) / 2), y: c.H - 4, class: 'ch-axis-title' }, title));
  return { x: (i) => ch_c(c.L + bw * i), bw };
}

// ch_vline draws a vertical marker line across the plot at pixel x.
function ch_vline(c, x, cls, color, tip) {
  if (!ch_ok(x) || x < c.L - 0.5 || x > c.R + 0.5) return;
  c.over.appendChild(svg('line', { x1: ch_c(x), x2: ch_c(x), y1: c.T, y2: c.B, class: ['ch-marker', cls], stroke: color || null },
    tip ? ch_tip(tip) : null));
  // A wider invisible line makes the tooltip easy to reach.
  if (tip) c.over.appendChild(svg('line', { x1: ch_c(x), x2: ch_c(x), y1: c.T, y2: c.B, class: 'ch-marker-hit' }, ch_tip(tip)));
}

// ch_bar draws one bar (pixel box) with its tooltip, and a transparent
// column over the full plot height so short bars are easy to hover.
function ch_bar(c, x, y, w, h, color, tip, cls, noHit) {
  if (!ch_ok(x) || !ch_ok(y) || !ch_ok(w) || !ch_ok(h)) return;
  const hh = Math.max(0, h);
  c.marks.appendChild(svg('rect', { x: ch_c(x), y: ch_c(y), width: ch_c(Math.max(0, w)), height: ch_c(hh), fill: color || null,
    class: ['ch-bar', cls || ''] }, ch_tip(tip)));
  if (!noHit) ch_hit(c, x, w, tip);
}

// ch_hit is a transparent column over the plot's height with a tooltip.
function ch_hit(c, x, w, tip) {
  if (!ch_ok(x) || !ch_ok(w)) return;
  c.over.appendChild(svg('rect', { x: ch_c(x), y: c.T, width: ch_c(Math.max(0, w)), height: ch_c(c.B - c.T), class: 'ch-hit' }, ch_tip(tip)));
}

// ch_card wraps a chart (or a "no data" note) in a card with a heading.
function ch_card(title, sub, body, caption) {
  return el('div', { class: 'ch-card' },
    el('div', { class: 'ch-card-head' }, el('h3', null, title), sub ? el('span', { class: 'ch-card-sub' }, sub) : null),
    body, caption || null);
}

// ch_nodata is what a card shows when there is nothing to draw.
function ch_nodata(why) {
  return el('div', { class: 'ch-nodata' }, el('strong', null, 'no data'), why ? el('span', null, why) : null);
}

// ch_sideLegend: one legend item per variant index in idx.
function ch_sideLegend(idx, extra) {
  return idx.map((i) => ({ label: ch_label(sideName(i), 22) + (extra ? extra(i) : ''), full: sideName(i), color: sideColor(i) }));
}

// ---------------------------------------------------------------- data

// ch_data counts, in one pass over the rows, what the charts need: the
// rows of each side, the score histograms of graded judges and the
// latencies. Cached: the rows never change.
let ch_cache = null;
function ch_data() {
  if (ch_cache && ch_cache.n === G.rows.length) return ch_cache;
  const nSides = Math.max(doc.sides.length, ((doc.report && doc.report.variants) || []).length, 1);
  const nJ = doc.judges.length;
  const graded = doc.judges.map((_, j) => judgeGraded(j));
  const bySide = Array.from({ length: nSides }, () => []);
  const hist = doc.judges.map(() => Array.from({ length: nSides }, () => ({ bins: new Array(10).fill(0), n: 0, sum: 0 })));
  const lat = Array.from({ length: nSides }, () => []);
  let latMin = Infinity;
  let latMinPos = Infinity;
  let latMax = -Infinity;
  for (const r of G.rows) {
    const s = r.s;
    if (!(s >= 0 && s < nSides)) continue;
    bySide[s].push(r);
    if (ch_ok(r.lat) && r.lat >= 0) {
      lat[s].push(r.lat);
      if (r.lat < latMin) latMin = r.lat;
      if (r.lat > latMax) latMax = r.lat;
      if (r.lat > 0 && r.lat < latMinPos) latMinPos = r.lat;
    }
    for (let j = 0; j < nJ; j++) {
      if (!graded[j]) continue;
      const sc = scoreOf(markOf(r, j));
      if (!ch_ok(sc)) continue;
      const h = hist[j][s];
      const b = Math.min(9, Math.max(0, Math.floor(sc * 10)));
      h.bins[b]++;
      h.n++;
      h.sum += sc;
    }
  }
  ch_cache = { n: G.rows.length, nSides, graded, bySide, hist, lat, latMin, latMinPos, latMax };
  return ch_cache;
}

// ch_variant returns the report's figures of side i (or {}).
function ch_variant(i) { return ((doc.report && doc.report.variants) || [])[i] || {}; }

// ch_judgeFig returns the figures of judge j in variant i, or null.
function ch_judgeFig(i, j) {
  const name = doc.judges[j] && doc.judges[j].name;
  return (ch_variant(i).judges || []).find((x) => x.judge === name) || null;
}

// ch_pairDiffs returns the paired differences B − A of judge j between
// sides ia and ib: rows paired by example id and epoch, both scored.
function ch_pairDiffs(d, ia, ib, j) {
  const byKey = new Map();
  for (const r of d.bySide[ia] || []) {
    const sc = scoreOf(markOf(r, j));
    if (ch_ok(sc)) byKey.set(r.id + '\u0000' + r.e, sc);
  }
  const out = [];
  for (const r of d.bySide[ib] || []) {
    const sb = scoreOf(markOf(r, j));
    if (!ch_ok(sb)) continue;
    const sa = byKey.get(r.id + '\u0000' + r.e);
    if (sa !== undefined) out.push(sb - sa);
  }
  return out;
}

// ---------------------------------------------------------------- score charts

// ch_passChart: pass rate per variant with its Wilson 95% interval.
function ch_passChart(j) {
  const name = doc.judges[j].name;
  const idx = [];
  for (let i = 0; i < ch_data().nSides; i++) if (ch_judgeFig(i, j)) idx.push(i);
  const figs = idx.map((i) => ch_judgeFig(i, j));
  if (!figs.some((f) => ch_ok(f.pass_rate))) return ch_nodata('no verdicts of ' + name + ' to count');
  const c = ch_frame({
    title: 'Pass rate of ' + name + ' per variant, with 95% Wilson intervals',
    legend: ch_sideLegend(idx).concat([{ label: '95% interval', kind: 'line', color: null }]),
    bottom: 52,
  });
  const y = ch_yAxis(c, { lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1], fmt: (v) => Math.round(v * 100) + '%', title: 'pass rate' });
  const sub = figs.map((f) => ({ text: f.valid !== undefined ? 'n = ' + fmtNum(f.valid) : '', short: ch_tokens(f.valid), full: fmtNum(f.valid) + ' results judged' }));
  const band = ch_xBand(c, idx.map((i) => ({ label: sideName(i), full: sideName(i) })), 'variant', sub);
  const bw = Math.min(band.bw * 0.56, 90);
  idx.forEach((i, k) => {
    const f = figs[k];
    const cx = band.x(k) + band.bw / 2;
    const pr = f.pass_rate;
    if (!ch_ok(pr)) {
      c.marks.appendChild(svg('text', { x: ch_c(cx), y: ch_c(c.B - 8), class: 'ch-value ch-muted' }, 'no verdicts'));
      return;
    }
    const ci = f.pass_rate_ci || {};
    const ciTxt = ch_ok(ci.lo) && ch_ok(ci.hi) ? ' [' + fmtPct(ci.lo) + ', ' + fmtPct(ci.hi) + ']' : '';
    const tip = sideName(i) + ' · ' + name + ': pass rate ' + fmtPct(pr) + ciTxt + ' — ' +
      fmtNum(f.passed) + ' passed of ' + fmtNum(f.valid) + (f.judge_errors ? ', ' + fmtNum(f.judge_errors) + ' judge errors' : '') +
      (f.skipped ? ', ' + fmtNum(f.skipped) + ' skipped' : '');
    const top = y(pr);
    ch_bar(c, cx - bw / 2, top, bw, c.B - top, sideColor(i), tip);
    let labelY = top - 5;
    let ciLo = null;
    if (ch_ok(ci.lo) && ch_ok(ci.hi)) {
      const y1 = y(Math.max(0, Math.min(1, ci.lo)));
      const y2 = y(Math.max(0, Math.min(1, ci.hi)));
      const cap = Math.min(10, bw / 4);
      c.over.appendChild(svg('path', { d: 'M' + ch_c(cx - cap) + ' ' + y2 + 'H' + ch_c(cx + cap) + 'M' + ch_c(cx) + ' ' + y2 + 'V' + y1 +
        'M' + ch_c(cx - cap) + ' ' + y1 + 'H' + ch_c(cx + cap), class: 'ch-errbar' }, ch_tip('95% interval' + ciTxt)));
      labelY = Math.min(labelY, y2 - 5);
      ciLo = y1;
    }
    // The value goes above the bar and its interval; when that leaves the
    // plot, inside the bar under the interval, or beside it.
    const txt = fmtPct(pr, bw < 40 ? 0 : 1);
    if (labelY >= c.T + 8) {
      c.over.appendChild(svg('text', { x: ch_c(cx), y: ch_c(labelY), class: 'ch-value' }, txt));
    } else {
      const inY = Math.max(top, ciLo === null ? top : ciLo) + 13;
      if (inY < c.B - 3 && ch_tw(txt) < bw) c.over.appendChild(svg('text', { x: ch_c(cx), y: ch_c(inY), class: 'ch-value ch-value-in' }, txt));
      else c.over.appendChild(svg('text', { x: ch_c(cx + bw / 2 + 3), y: ch_c(top + 12), class: 'ch-value ch-value-side' }, txt));
    }
  });
  return c.root;
}

// ch_gradedChart: histogram of the scores of judge j per variant, 10
// bins on [0, 1], bars grouped by bin, the means as dashed lines.
function ch_gradedChart(j) {
  const d = ch_data();
  const name = doc.judges[j].name;
  const idx = [];
  for (let i = 0; i < d.nSides; i++) if (d.hist[j][i].n > 0) idx.push(i);
  if (!idx.length) return ch_nodata('no scores of ' + name);
  let maxShare = 0;
  for (const i of idx) for (const b of d.hist[j][i].bins) maxShare = Math.max(maxShare, b / d.hist[j][i].n);
  const yt = ch_nice(0, maxShare || 1, 4);
  const mean = (i) => d.hist[j][i].sum / d.hist[j][i].n;
  const c = ch_frame({
    title: 'Distribution of ' + name + ' scores per variant (10 bins on 0–1), means dashed',
    legend: ch_sideLegend(idx, (i) => ' · mean ' + fmtNum(mean(i), 2)).concat([{ label: 'mean', kind: 'dash', color: null }]),
  });
  const y = ch_yAxis(c, { lo: 0, hi: yt.hi, ticks: yt.ticks, fmt: (v) => ch_round(v * 100) + '%', title: 'share of scored results' });
  const x = ch_xLinear(c, { lo: 0, hi: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], fmt: (v) => String(v), title: 'score' });
  const binW = (c.R - c.L) / 10;
  const inner = binW * 0.86;
  const bw = inner / idx.length;
  for (let b = 0; b < 10; b++) {
    idx.forEach((i, k) => {
      const h = d.hist[j][i];
      const cnt = h.bins[b];
      const share = cnt / h.n;
      const top = y(share);
      const lo = (b / 10).toFixed(1);
      const hi = ((b + 1) / 10).toFixed(1);
      const tip = sideName(i) + ' · ' + name + ' ' + lo + '–' + hi + (b === 9 ? ' (incl. 1)' : '') + ': ' +
        fmtNum(cnt) + ' of ' + fmtNum(h.n) + ' results (' + fmtPct(share) + ')';
      ch_bar(c, c.L + b * binW + (binW - inner) / 2 + k * bw, top, Math.max(1, bw - 1), c.B - top, sideColor(i), tip);
    });
  }
  for (const i of idx) {
    ch_vline(c, x(Math.max(0, Math.min(1, mean(i)))), 'ch-dash', sideColor(i),
      sideName(i) + ' · mean ' + name + ' ' + fmtNum(mean(i)) + ' over ' + fmtNum(d.hist[j][i].n) + ' scored results');
  }
  return c.root;
}

// ch_niceCount: ticks for a count axis (whole numbers only).
function ch_niceCount(max) {
  const n = ch_nice(0, Math.max(1, max), 4);
  const ints = n.ticks.filter((t) => Number.isInteger(t));
  if (ints.length >= 2) return { lo: 0, hi: n.hi, ticks: ints };
  const hi = Math.max(1, Math.ceil(max));
  return { lo: 0, hi, ticks: [0, hi] };
}

// ch_fmtP formats a p-value.

// ch_diffChart: histogram of the paired differences B − A of judge j in
// comparison comp (cj: the comparison's figures of that judge).
function ch_diffChart(comp, cj, j) {
  const ia = sideIndex(comp.a);
  const ib = sideIndex(comp.b);
  if (ia < 0 || ib < 0) return ch_nodata('variants not in this report');
  const diffs = ch_pairDiffs(ch_data(), ia, ib, j);
  if (!diffs.length) return ch_nodata('no (example, epoch) pair scored on both sides');
  const name = doc.judges[j].name;
  let sum = 0;
  let maxAbs = 0;
  let integral = true;
  for (const v of diffs) {
    sum += v;
    if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    if (v !== -1 && v !== 0 && v !== 1) integral = false;
  }
  const mean = sum / diffs.length;
  const passFail = !judgeGraded(j) && integral;
  // bins: [{center, lo, hi, n, label}]
  let bins;
  let xo;
  if (passFail) {
    bins = [-1, 0, 1].map((v) => ({ center: v, lo: v - 0.3, hi: v + 0.3, n: 0 }));
    for (const v of diffs) bins[v + 1].n++;
    const lab = { '-1': '−1 regressed', 0: '0 same', 1: '+1 improved' };
    xo = { lo: -1.5, hi: 1.5, ticks: [-1, 0, 1], fmt: (v) => lab[v], title: 'B − A per pair (' + fmtNum(diffs.length) + ' pairs)' };
  } else {
    const M = maxAbs > 0 ? ch_nice(0, maxAbs, 2).hi : 1;
    const K = 10;
    const w = M / (K + 0.5);
    bins = [];
    for (let b = -K; b <= K; b++) bins.push({ center: b * w, lo: (b - 0.5) * w, hi: (b + 0.5) * w, n: 0 });
    for (const v of diffs) bins[Math.max(0, Math.min(2 * K, Math.round(v / w) + K))].n++;
    const t = ch_nice(-M, M, 4).ticks.filter((v) => v >= -M - 1e-9 && v <= M + 1e-9);
    xo = { lo: -M, hi: M, ticks: t, fmt: (v) => (v > 0 ? '+' : '') + fmtNum(v, 2), title: 'score B − A per pair (' + fmtNum(diffs.length) + ' pairs)' };
  }
  let maxN = 0;
  for (const b of bins) maxN = Math.max(maxN, b.n);
  const yt = ch_niceCount(maxN);
  const c = ch_frame({
    title: 'Paired differences of ' + name + ': ' + comp.b + ' − ' + comp.a,
    legend: [
      { label: 'A ' + ch_label(comp.a, 18), full: 'A = ' + comp.a, color: sideColor(ia) },
      { label: 'B ' + ch_label(comp.b, 18), full: 'B = ' + comp.b, color: sideColor(ib) },
      { label: 'regressed', cls: 'ch-neg' }, { label: 'same', cls: 'ch-zero' }, { label: 'improved', cls: 'ch-pos' },
      { label: 'mean ' + (passFail ? ch_signed(mean, true) : ch_signed(mean)), kind: 'dash', cls: 'ch-mean-line' },
    ],
  });
  const y = ch_yAxis(c, { lo: 0, hi: yt.hi, ticks: yt.ticks, fmt: (v) => ch_tokens(v), title: 'pairs' });
  const x = ch_xLinear(c, xo);
  for (const b of bins) {
    const x0 = x(Math.max(xo.lo, b.lo));
    const x1 = x(Math.min(xo.hi, b.hi));
    const top = y(b.n);
    const cls = b.center < -1e-12 ? 'ch-neg' : b.center > 1e-12 ? 'ch-pos' : 'ch-zero';
    const range = passFail ? (b.center < 0 ? 'regressed (B fails, A passes)' : b.center > 0 ? 'improved (B passes, A fails)' : 'same verdict')
      : 'B − A in [' + fmtNum(b.lo, 3) + ', ' + fmtNum(b.hi, 3) + ')';
    ch_bar(c, x0 + 0.5, top, Math.max(1, x1 - x0 - 1), c.B - top, null,
      name + ' · ' + range + ': ' + fmtNum(b.n) + ' of ' + fmtNum(diffs.length) + ' pairs (' + fmtPct(b.n / diffs.length) + ')', cls);
    if (passFail) c.over.appendChild(svg('text', { x: ch_c((x0 + x1) / 2), y: ch_c(top - 5), class: 'ch-value' }, fmtNum(b.n)));
  }
  ch_vline(c, x(0), 'ch-zero-line', null, 'no difference');
  ch_vline(c, x(Math.max(xo.lo, Math.min(xo.hi, mean))), 'ch-mean-line ch-dash', null,
    'mean B − A over ' + fmtNum(diffs.length) + ' pairs: ' + (passFail ? ch_signed(mean, true) : ch_signed(mean)));
  return c.root;
}

// ch_diffCaption: the comparison's own figures for judge cj.
function ch_diffCaption(comp, cj, passFail) {
  const verdict = cj.verdict || '';
  const vcls = verdict === 'improved' ? 'ch-verdict-improved' : verdict === 'regressed' ? 'ch-verdict-regressed' : 'ch-verdict-other';
  const ci = cj.diff_ci || {};
  const ciTxt = ch_ok(ci.lo) && ch_ok(ci.hi) ? ' [' + ch_signed(ci.lo, passFail) + ', ' + ch_signed(ci.hi, passFail) + ']' : '';
  return el('p', { class: 'ch-caption' },
    el('span', { class: ['ch-verdict', vcls] }, verdict || 'no verdict'), ' ',
    'diff ', el('strong', null, ch_signed(cj.diff, passFail)), el('span', { class: 'ci' }, ciTxt + (ciTxt ? ' 95% CI' : '')),
    ' · p adj ', fmtP(cj.p_adjusted),
    ' · ', fmtNum(cj.n), ' examples: ', el('span', { class: 'ch-pos-text' }, fmtNum(cj.improved) + ' improved'), ', ',
    el('span', { class: 'ch-neg-text' }, fmtNum(cj.regressed) + ' regressed'), ', ', fmtNum(cj.equal) + ' same',
    cj.test ? el('span', { class: 'muted' }, ' · ' + cmp_testLabel(cj)) : null);
}

// ---------------------------------------------------------------- latency, cost, tokens

// ch_logTicks: decades in [lo, hi], with 2× and 5× when there are few.
function ch_logTicks(lo, hi) {
  const out = [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const decades = b - a;
  const mults = decades <= 3 ? [1, 2, 5] : [1];
  const step = decades > 8 ? Math.ceil(decades / 8) : 1;
  for (let k = a; k <= b; k += step) {
    for (const m of mults) {
      const v = ch_round(m * Math.pow(10, k));
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

// ch_latencyChart: histogram of chain latencies per variant (~20 bins,
// log-scaled when they span more than two decades), p50 and p95 marked.
function ch_latencyChart() {
  const d = ch_data();
  const idx = [];
  for (let i = 0; i < d.nSides; i++) if (d.lat[i].length) idx.push(i);
  if (!idx.length) return ch_nodata('no latencies recorded');
  if (!(d.latMax > 0)) return ch_nodata('every latency is 0 ms');
  const log = ch_ok(d.latMinPos) && d.latMax / d.latMinPos > 100;
  const NB = 20;
  let lo;
  let hi;
  let xo;
  if (log) {
    lo = d.latMinPos;
    hi = d.latMax;
    xo = { lo, hi, log: true, ticks: ch_logTicks(lo, hi), fmt: fmtMs, title: 'latency (log scale)' };
  } else {
    const n = d.latMax > d.latMin ? ch_nice(d.latMin, d.latMax, 5) : ch_nice(d.latMax * 0.5, d.latMax * 1.5, 4);
    lo = n.lo;
    // The range ends at the slowest result (not the next round tick) so
    // the bins use the whole width.
    hi = d.latMax > d.latMin ? d.latMax : n.hi;
    xo = { lo, hi, ticks: n.ticks.filter((t) => t <= hi * (1 + 1e-9)), fmt: fmtMs, title: 'latency' };
  }
  const f = log ? (v) => Math.log10(v) : (v) => v;
  const a = f(lo);
  const span = f(hi) - a;
  if (!(span > 0) || !ch_ok(span)) return ch_nodata('latencies could not be binned');
  const edge = (b) => (log ? Math.pow(10, a + (span * b) / NB) : lo + (span * b) / NB);
  const counts = idx.map((i) => {
    const bins = new Array(NB).fill(0);
    for (const v of d.lat[i]) {
      const t = v > 0 || !log ? (f(v) - a) / span : 0;
      bins[Math.max(0, Math.min(NB - 1, Math.floor(t * NB)))]++;
    }
    return bins;
  });
  let maxShare = 0;
  idx.forEach((i, k) => { for (const n of counts[k]) maxShare = Math.max(maxShare, n / d.lat[i].length); });
  const yt = ch_nice(0, maxShare || 1, 4);
  const c = ch_frame({
    title: 'Latency distribution per variant' + (log ? ' (log scale)' : '') + ', p50 dashed and p95 dotted',
    legend: ch_sideLegend(idx).concat([{ label: 'p50', kind: 'dash' }, { label: 'p95', kind: 'dot' }]),
  });
  const y = ch_yAxis(c, { lo: 0, hi: yt.hi, ticks: yt.ticks, fmt: (v) => ch_round(v * 100) + '%', title: 'share of results' });
  const x = ch_xLinear(c, xo);
  const binW = (c.R - c.L) / NB;
  const inner = binW * (idx.length > 1 ? 0.9 : 0.84);
  const bw = inner / idx.length;
  for (let b = 0; b < NB; b++) {
    idx.forEach((i, k) => {
      const n = counts[k][b];
      const share = n / d.lat[i].length;
      const top = y(share);
      const tip = sideName(i) + ' · ' + fmtMs(edge(b)) + ' – ' + fmtMs(edge(b + 1)) + ': ' + fmtNum(n) + ' of ' +
        fmtNum(d.lat[i].length) + ' results (' + fmtPct(share) + ')';
      ch_bar(c, c.L + b * binW + (binW - inner) / 2 + k * bw, top, Math.max(0.8, bw - (idx.length > 1 ? 0.4 : 1)), c.B - top, sideColor(i), tip);
    });
  }
  for (const i of idx) {
    const v = ch_variant(i);
    for (const [q, cls] of [['latency_p50_ms', 'ch-dash'], ['latency_p95_ms', 'ch-dot']]) {
      const ms = v[q];
      if (!ch_ok(ms) || ms < lo || ms > hi || (log && ms <= 0)) continue;
      ch_vline(c, x(ms), cls + ' ch-q', sideColor(i), sideName(i) + ' · ' + (cls === 'ch-dash' ? 'p50 ' : 'p95 ') + fmtMs(ms));
    }
  }
  return c.root;
}

// ch_latencyCaption: p50 / p95 of every variant, as text.
function ch_latencyCaption() {
  const d = ch_data();
  const items = [];
  for (let i = 0; i < d.nSides; i++) {
    const v = ch_variant(i);
    if (!d.lat[i].length && !ch_ok(v.latency_p50_ms)) continue;
    items.push(el('span', { class: 'ch-cap-item' }, el('span', { class: 'swatch', 'data-side': i }), ch_label(sideName(i), 30), ': p50 ',
      el('strong', null, fmtMs(v.latency_p50_ms)), ' · p95 ', el('strong', null, fmtMs(v.latency_p95_ms)),
      ch_ok(v.latency_p99_ms) ? ' · p99 ' + fmtMs(v.latency_p99_ms) : ''));
  }
  return items.length ? el('p', { class: 'ch-caption' }, items) : null;
}

// ch_variantIdx: indexes of the sides the report has figures for.
function ch_variantIdx() {
  const out = [];
  const n = ((doc.report && doc.report.variants) || []).length;
  for (let i = 0; i < n; i++) out.push(i);
  return out;
}

// ch_costChart: total cost per variant, the chain's calls and, beside
// them when judges called models, the judges' own; unpriced results and
// judge calls noted (they are not in the sums).
function ch_costChart() {
  const idx = ch_variantIdx();
  if (!idx.length) return ch_nodata('no variants');
  const num = (x) => (ch_ok(x) && x > 0 ? x : 0);
  const cost = idx.map((i) => num(ch_variant(i).cost_usd));
  const unpriced = idx.map((i) => num(ch_variant(i).unpriced));
  const jcost = idx.map((i) => num(ch_variant(i).judge_cost_usd));
  const jcalls = idx.map((i) => num(ch_variant(i).judge_calls));
  const junpriced = idx.map((i) => num(ch_variant(i).judge_unpriced));
  const judges = jcalls.some((n) => n > 0);
  const maxCost = Math.max(...cost, ...jcost);
  const totalUnpriced = unpriced.reduce((s, n) => s + n, 0);
  const totalJudgeUnpriced = junpriced.reduce((s, n) => s + n, 0);
  if (!(maxCost > 0)) {
    const parts = [];
    if (totalUnpriced) parts.push(fmtNum(totalUnpriced) + ' results unpriced');
    if (totalJudgeUnpriced) parts.push(fmtNum(totalJudgeUnpriced) + ' judge model calls unpriced');
    return ch_nodata(parts.length ? 'no model call has a known price (' + parts.join(', ') + ')' : 'every result cost $0 (no priced model calls)');
  }
  const yt = ch_nice(0, maxCost * 1.08, 4);
  const legend = ch_sideLegend(idx).concat(judges ? [{ label: 'chain', cls: 'ch-legend-prompt' }, { label: 'judges', cls: 'ch-legend-completion' }] : []);
  const c = ch_frame({ title: judges ? 'Cost per variant (USD): chain and judges' : 'Cost per variant (USD)', legend, bottom: 52 });
  c.root.setAttribute('data-chart', 'cost');
  const y = ch_yAxis(c, { lo: 0, hi: yt.hi, ticks: yt.ticks, fmt: ch_usd, title: 'cost (USD)' });
  const sub = idx.map((_, k) => {
    const text = [];
    const short = [];
    const full = [];
    if (unpriced[k]) {
      text.push('+' + fmtNum(unpriced[k]) + ' unpriced');
      short.push('+' + fmtNum(unpriced[k]));
      full.push(fmtNum(unpriced[k]) + ' results unpriced (not in the total)');
    }
    if (junpriced[k]) {
      text.push('judges +' + fmtNum(junpriced[k]) + ' unpriced');
      short.push('j+' + fmtNum(junpriced[k]));
      full.push(fmtNum(junpriced[k]) + ' of ' + fmtNum(jcalls[k]) + ' judge model calls unpriced (not in the judge cost)');
    }
    return text.length ? { text: text.join(' · '), short: short.join(' '), full: full.join('; '), cls: 'ch-warn' } : null;
  });
  const band = ch_xBand(c, idx.map((i) => ({ label: sideName(i) })), 'variant', sub);
  const bw = judges ? Math.min(band.bw * 0.34, 60) : Math.min(band.bw * 0.56, 90);
  idx.forEach((i, k) => {
    const v = ch_variant(i);
    const per = v.results ? cost[k] / v.results : null;
    const tip = sideName(i) + (judges ? ' · chain' : '') + ': $' + cost[k].toFixed(6) + ' over ' + fmtNum(v.results) + ' results' +
      (ch_ok(per) ? ' (' + fmtCost(per) + ' per result)' : '') + (unpriced[k] ? '; ' + fmtNum(unpriced[k]) + ' results unpriced, not included' : '');
    const cx = band.x(k) + band.bw / 2;
    const x0 = judges ? cx - bw - 1 : cx - bw / 2;
    const top = y(cost[k]);
    ch_bar(c, x0, top, bw, c.B - top, sideColor(i), tip);
    c.over.appendChild(svg('text', { x: ch_c(x0 + bw / 2), y: ch_c(Math.max(c.T + 9, top - 5)), class: 'ch-value' }, fmtCost(cost[k])));
    if (!judges) return;
    // The judges' bar: none when they called no model; n/a when no
    // call of theirs had a known price.
    const x1 = cx + 1;
    let label = '-';
    if (jcalls[k] > 0 && junpriced[k] >= jcalls[k]) {
      label = 'n/a';
    } else if (jcalls[k] > 0) {
      label = fmtCost(jcost[k]);
      const perCall = jcost[k] / (jcalls[k] - junpriced[k]);
      const jtip = sideName(i) + ' · judges: $' + jcost[k].toFixed(6) + ' over ' + fmtNum(jcalls[k]) + ' judge model calls' +
        (ch_ok(perCall) ? ' (' + fmtCost(perCall) + ' per priced call)' : '') +
        (junpriced[k] ? '; ' + fmtNum(junpriced[k]) + ' calls unpriced, not included' : '');
      const jtop = y(jcost[k]);
      if (jcost[k] > 0) ch_bar(c, x1, jtop, bw, c.B - jtop, sideColor(i), jtip, 'ch-seg-light ch-judge');
    }
    const ly = jcost[k] > 0 ? y(jcost[k]) : c.B;
    c.over.appendChild(svg('text', { x: ch_c(x1 + bw / 2), y: ch_c(Math.max(c.T + 9, ly - 5)), class: ['ch-value', label === '$0' || jcost[k] > 0 ? '' : 'ch-muted'] }, label));
  });
  return c.root;
}

// ch_tokenChart: prompt and completion tokens per variant, stacked.
function ch_tokenChart() {
  const idx = ch_variantIdx();
  if (!idx.length) return ch_nodata('no variants');
  const num = (x) => (ch_ok(x) && x > 0 ? x : 0);
  const pt = idx.map((i) => num(ch_variant(i).prompt_tokens));
  const ct = idx.map((i) => num(ch_variant(i).completion_tokens));
  const maxT = Math.max(...idx.map((_, k) => pt[k] + ct[k]));
  if (!(maxT > 0)) return ch_nodata('no tokens recorded');
  const yt = ch_nice(0, maxT * 1.08, 4);
  const c = ch_frame({
    title: 'Tokens per variant: prompt and completion, stacked',
    legend: ch_sideLegend(idx).concat([{ label: 'prompt', cls: 'ch-legend-prompt' }, { label: 'completion', cls: 'ch-legend-completion' }]),
  });
  const y = ch_yAxis(c, { lo: 0, hi: yt.hi, ticks: yt.ticks, fmt: ch_tokens, title: 'tokens' });
  const band = ch_xBand(c, idx.map((i) => ({ label: sideName(i) })), 'variant');
  const bw = Math.min(band.bw * 0.56, 90);
  idx.forEach((i, k) => {
    const v = ch_variant(i);
    const total = pt[k] + ct[k];
    const per = v.results ? ' (' + fmtNum(total / v.results, 1) + ' per result)' : '';
    const tip = sideName(i) + ': ' + fmtNum(pt[k]) + ' prompt + ' + fmtNum(ct[k]) + ' completion = ' + fmtNum(total) + ' tokens' + per;
    const cx = band.x(k) + band.bw / 2;
    const yp = y(pt[k]);
    const yt2 = y(total);
    ch_bar(c, cx - bw / 2, yp, bw, c.B - yp, sideColor(i), tip, '', true);
    ch_bar(c, cx - bw / 2, yt2, bw, yp - yt2, sideColor(i), tip, 'ch-seg-light', true);
    ch_hit(c, cx - bw / 2, bw, tip);
    c.over.appendChild(svg('text', { x: ch_c(cx), y: ch_c(Math.max(c.T + 9, yt2 - 5)), class: 'ch-value' }, ch_tokens(total)));
  });
  return c.root;
}

// ---------------------------------------------------------------- the view

// ch_group is a titled grid of cards.
function ch_group(title, note, cards) {
  return el('section', { class: 'ch-group' },
    el('div', { class: 'ch-group-head' }, el('h2', null, title), note ? el('span', { class: 'ch-group-note' }, note) : null),
    el('div', { class: 'ch-grid' }, cards));
}

function ch_render(section) {
  const rep = doc.report || {};
  if (!G.rows.length && !(rep.variants || []).length) {
    section.appendChild(el('p', { class: 'empty' }, 'This report has no results to chart.'));
    return;
  }
  const d = ch_data();
  const nJ = doc.judges.length;
  // Scores, judge by judge.
  const scoreCards = [];
  for (let j = 0; j < nJ; j++) {
    const jd = doc.judges[j];
    const graded = d.graded[j];
    scoreCards.push(ch_card(jd.name, (jd.type ? jd.type + ' · ' : '') + (graded ? 'score distribution' : 'pass rate, 95% Wilson interval'),
      graded ? ch_gradedChart(j) : ch_passChart(j)));
  }
  if (scoreCards.length) section.appendChild(ch_group('Scores', 'per judge and variant', scoreCards));
  // Paired differences, comparison by comparison.
  const comps = rep.comparisons || [];
  for (const comp of comps) {
    const cards = [];
    for (const cj of comp.judges || []) {
      const j = doc.judges.findIndex((x) => x.name === cj.judge);
      if (j < 0) continue;
      const passFail = !d.graded[j];
      cards.push(ch_card(cj.judge, (passFail ? 'pass/fail change' : 'score change') + ' per (example, epoch) pair',
        ch_diffChart(comp, cj, j), ch_diffCaption(comp, cj, passFail)));
    }
    if (!cards.length) continue;
    const ia = sideIndex(comp.a);
    const ib = sideIndex(comp.b);
    const note = el('span', null, 'B − A: ',
      el('span', { class: 'swatch', 'data-side': ib }), el('strong', null, comp.b), ' minus ',
      el('span', { class: 'swatch', 'data-side': ia }), el('strong', null, comp.a),
      ' · ' + fmtNum(comp.paired) + ' pairs',
      (comp.only_a || []).length ? ' · ' + comp.only_a.length + ' only in A' : '',
      (comp.only_b || []).length ? ' · ' + comp.only_b.length + ' only in B' : '');
    section.appendChild(ch_group('Paired differences', note, cards));
  }
  // Latency, cost and tokens.
  const total = (key) => ch_variantIdx().reduce((s, i) => s + (ch_ok(ch_variant(i)[key]) ? ch_variant(i)[key] : 0), 0);
  const unpriced = total('unpriced');
  const judgeUnpriced = total('judge_unpriced');
  const costSub = 'USD per variant' + (total('judge_calls') > 0 ? ', chain and judges' : '') +
    (unpriced ? ' · ' + fmtNum(unpriced) + ' results unpriced' : '') +
    (judgeUnpriced ? ' · ' + fmtNum(judgeUnpriced) + ' judge model calls unpriced' : '');
  section.appendChild(ch_group('Latency, cost and tokens', null, [
    ch_card('Latency', 'chain latency per result', ch_latencyChart(), ch_latencyCaption()),
    ch_card('Cost', costSub, ch_costChart()),
    ch_card('Tokens', 'prompt + completion per variant', ch_tokenChart()),
  ]));
}

registerView({
  id: 'charts',
  label: 'Charts',
  available: () => doc.mode !== 'index' && doc.mode !== 'traffic',
  render(section) { ch_render(section); },
});
