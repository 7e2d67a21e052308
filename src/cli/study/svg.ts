// A small SVG writer for the study's plots: line charts (one polyline with markers per series) and grouped
// bar charts, with axes, "nice" ticks, a legend and a title. Plain strings, no dependency; the output is
// deterministic for the same input, so regenerating a report from the same JSON gives the same files.

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  /** Override the palette colour (e.g. a grey reference line). */
  color?: string;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Put x on a log2 axis (ranks). */
  logX?: boolean;
  /** Tick labels at exactly these x values (otherwise nice ticks). */
  xTicks?: number[];
}

export interface BarChart {
  title: string;
  yLabel: string;
  groups: string[];
  /** One value per group for each series (NaN = no bar). */
  series: { name: string; values: number[]; color?: string }[];
  yMin?: number;
  yMax?: number;
}

// Okabe–Ito, colour-blind safe; extra series cycle with dashes.
const COLORS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];
export const BASE_COLOR = '#8c8c8c';
const W = 880, H = 440, M = { top: 48, right: 250, bottom: 56, left: 70 };
const PW = W - M.left - M.right, PH = H - M.top - M.bottom;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n2 = (v: number) => (Math.round(v * 100) / 100).toString();

/** Ticks at 1, 2 or 5 × 10^k covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) { const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1; lo -= d; hi += d; }
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) as number;
  const out: number[] = [];
  // From the last tick ≤ lo to the first tick ≥ hi, so every value lies inside the axis.
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) out.push(Number((k * step).toPrecision(12)));
  if (out.length < 2) out.push(Number(((last + 1) * step).toPrecision(12)));
  return out;
}

const fmtTick = (v: number) => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : Number(v.toPrecision(6)).toString();
};

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="26" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="18" y="${M.top + PH / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + PH / 2})">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(ticks: number[], y: (v: number) => number): string[] {
  const out = [`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`];
  for (const t of ticks) {
    const yy = n2(y(t));
    out.push(`<line x1="${M.left}" y1="${yy}" x2="${M.left + PW}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmtTick(t)}</text>`);
  }
  return out;
}

function legend(names: string[], marker: (i: number, x: number, y: number) => string): string[] {
  return names.flatMap((name, i) => {
    const x = M.left + PW + 16, y = M.top + 8 + i * 20;
    return [marker(i, x, y), `<text x="${x + 28}" y="${y}" dominant-baseline="middle">${esc(name)}</text>`];
  });
}

const DASHES = ['', '7 3', '2 3', '9 3 2 3', '4 4'];
/** The palette colour of series i (methods keep one colour across all plots). */
export const paletteColor = (i: number) => COLORS[i % COLORS.length];
const color = paletteColor;

/** A distinct marker per series (circle, square, triangle, diamond, cross, …), so overlapping lines stay readable. */
function marker(i: number, x: number, y: number, fill: string, title = ''): string {
  const t = title ? `<title>${esc(title)}</title>` : '';
  const X = n2(x), Y = n2(y);
  switch (i % 5) {
    case 0: return `<circle cx="${X}" cy="${Y}" r="3.5" fill="${fill}">${t}</circle>`;
    case 1: return `<rect x="${n2(x - 3.5)}" y="${n2(y - 3.5)}" width="7" height="7" fill="${fill}">${t}</rect>`;
    case 2: return `<polygon points="${n2(x)},${n2(y - 4.5)} ${n2(x + 4.5)},${n2(y + 3.5)} ${n2(x - 4.5)},${n2(y + 3.5)}" fill="${fill}">${t}</polygon>`;
    case 3: return `<polygon points="${n2(x)},${n2(y - 5)} ${n2(x + 5)},${n2(y)} ${n2(x)},${n2(y + 5)} ${n2(x - 5)},${n2(y)}" fill="${fill}">${t}</polygon>`;
    default: return `<path d="M${n2(x - 4)},${n2(y - 4)}L${n2(x + 4)},${n2(y + 4)}M${n2(x - 4)},${n2(y + 4)}L${n2(x + 4)},${n2(y - 4)}" stroke="${fill}" stroke-width="2">${t}</path>`;
  }
}

export function lineChart(c: LineChart): string {
  const pts = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) return frame(c.title, c.xLabel, c.yLabel, [`<text x="${M.left + PW / 2}" y="${M.top + PH / 2}" text-anchor="middle">no data</text>`]);
  const fx = (v: number) => (c.logX ? Math.log2(v) : v);
  let x0 = Math.min(...pts.map((p) => fx(p.x))), x1 = Math.max(...pts.map((p) => fx(p.x)));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const yt = niceTicks(Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y)));
  const y0 = yt[0], y1 = yt[yt.length - 1];
  const px = (v: number) => M.left + ((fx(v) - x0) / (x1 - x0)) * PW;
  const py = (v: number) => M.top + PH - ((v - y0) / (y1 - y0)) * PH;
  const xt = c.xTicks ?? (c.logX ? [] : niceTicks(x0, x1).filter((t) => t >= x0 && t <= x1));
  const body = [
    ...yAxis(yt, py),
    `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
    ...xt.map((t) => `<line x1="${n2(px(t))}" y1="${M.top + PH}" x2="${n2(px(t))}" y2="${M.top + PH + 5}" stroke="#333"/>` +
      `<text x="${n2(px(t))}" y="${M.top + PH + 18}" text-anchor="middle">${fmtTick(t)}</text>`),
  ];
  const stroke = (i: number) => c.series[i].color ?? color(i);
  const dashOf = (i: number) => {
    const d = c.series[i].dashed ? '5 4' : DASHES[i % DASHES.length];
    return d ? ` stroke-dasharray="${d}"` : '';
  };
  c.series.forEach((s, i) => {
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (ps.length === 0) return;
    body.push(`<polyline fill="none" stroke="${stroke(i)}" stroke-width="2"${dashOf(i)} points="${ps.map((p) => `${n2(px(p.x))},${n2(py(p.y))}`).join(' ')}"/>`);
    for (const p of ps) body.push(marker(i, px(p.x), py(p.y), stroke(i), `${s.name}: ${fmtTick(p.x)}, ${p.y.toPrecision(5)}`));
  });
  body.push(...legend(c.series.map((s) => s.name), (i, x, y) =>
    `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${stroke(i)}" stroke-width="2"${dashOf(i)}/>${marker(i, x + 11, y, stroke(i))}`));
  return frame(c.title, c.xLabel, c.yLabel, body);
}

export function barChart(c: BarChart): string {
  const vals = c.series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = c.yMin ?? Math.min(0, ...vals), hi = c.yMax ?? Math.max(...vals, lo + 1e-9);
  const yt = niceTicks(lo, hi);
  const y0 = c.yMin ?? yt[0], y1 = c.yMax ?? yt[yt.length - 1];
  const py = (v: number) => M.top + PH - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0)) * PH;
  const gw = PW / Math.max(1, c.groups.length), bw = (gw * 0.8) / Math.max(1, c.series.length);
  const body = [...yAxis(yt.filter((t) => t >= y0 && t <= y1), py), `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`];
  c.groups.forEach((g, gi) => {
    body.push(`<text x="${n2(M.left + gi * gw + gw / 2)}" y="${M.top + PH + 18}" text-anchor="middle">${esc(g)}</text>`);
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!Number.isFinite(v)) return;
      const x = M.left + gi * gw + gw * 0.1 + si * bw, top = py(v);
      body.push(`<rect x="${n2(x)}" y="${n2(top)}" width="${n2(bw - 1)}" height="${n2(M.top + PH - top)}" fill="${s.color ?? color(si)}"><title>${esc(`${s.name}, ${g}: ${v.toPrecision(4)}`)}</title></rect>`);
    });
  });
  body.push(...legend(c.series.map((s) => s.name), (i, x, y) => `<rect x="${x}" y="${y - 6}" width="22" height="12" fill="${c.series[i].color ?? color(i)}"/>`));
  return frame(c.title, '', c.yLabel, body);
}
