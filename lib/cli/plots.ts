// Pictures of a run, as SVG written here (no plotting dependency) and PNG rendered from the same
// SVG by sharp at twice its size (sharp for high-density screens): per-epoch curves (train vs valid),
// the confusion matrix and the lr finder's curve.

export interface Series {
  name: string;
  color: string;
  /** [x, y]; points with a null y are left out. */
  points: [number, number | null][];
}

/** A labelled point drawn over the curves (the lr finder's suggestions). */
export interface Marker {
  name: string;
  color: string;
  point: [number, number];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  markers?: Marker[];
  /** Fixed y range (accuracy: [0, 1]); otherwise 0 up to a round number above the data. */
  yDomain?: [number, number];
  yFormat?: (value: number) => string;
  /** A log x axis (learning rates). */
  xLog?: boolean;
  /**
   * A log y axis; 'auto': when the positive values span two orders of magnitude or more (a loss
   * that fell from 2 to 0.01, or one that diverged), where a linear axis flattens all but one end.
   */
  yLog?: boolean | 'auto';
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
export const COLORS = { train: '#1f77b4', valid: '#ff7f0e', validTop5: '#2ca02c', fc: '#d62728' };

/** SVG's user units are CSS pixels at 96 dpi; sharp reads SVG at 72 dpi unless told. */
const PNG_SCALE = 2;

export async function renderPng(svg: string): Promise<Buffer> {
  // Loaded on first use: train's flag checks import this module and should not wait for libvips.
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg), { density: 72 * PNG_SCALE }).png().toBuffer();
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

function ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  // Rounding keeps 0.1 + 0.2 from becoming a tick label of 0.30000000000000004.
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** A tick value with as many decimals as the step needs; large ones as 250k, 5M (a diverging loss). */
function tickLabel(value: number, step: number): string {
  for (const [size, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (step >= size && Math.abs(value) >= size) return `${Number((value / size).toPrecision(6))}${suffix}`;
  }
  return value.toFixed(decimalsFor(step));
}

function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

/** How values map onto an axis: linear, or log10 for positive values. */
interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
  at: (v: number) => number;
  label: (v: number) => string;
}

function linearScale(lo: number, hi: number, count: number, fixed: boolean): Scale {
  const step = niceStep((hi - lo) / count);
  const top = fixed ? hi : Math.ceil(hi / step - 1e-9) * step;
  return { lo, hi: top, ticks: ticks(lo, top, step), at: (v) => (v - lo) / (top - lo), label: (v) => tickLabel(v, step) };
}

function logScale(lo: number, hi: number): Scale {
  const [a, b] = [Math.floor(Math.log10(lo) + 1e-9), Math.ceil(Math.log10(hi) - 1e-9)];
  const [e0, e1] = b > a ? [a, b] : [a, a + 1];
  const decades = e1 - e0;
  // Every decade when there are few, every other one or sparser when there are many.
  const every = Math.ceil(decades / 8);
  const within = decades <= 2 ? [1, 2, 5] : [1];
  const values: number[] = [];
  for (let e = e0; e <= e1; e += every) for (const m of within) if (m === 1 || e < e1) values.push(Number((m * 10 ** e).toPrecision(6)));
  return {
    lo: 10 ** e0, hi: 10 ** e1, ticks: values,
    at: (v) => (Math.log10(v) - e0) / decades,
    label: (v) => (v >= 1e-3 && v < 1e4 ? String(v) : v.toExponential(0).replace('e+', 'e')),
  };
}

function spansDecades(values: number[]): boolean {
  const positive = values.filter((v) => v > 0);
  return positive.length > 1 && positive.length === values.length && Math.max(...positive) / Math.min(...positive) >= 100;
}

/** A line chart with axes, ticks, grid, axis labels, a legend and a title. */
export function lineChart(chart: LineChart): string {
  const width = 640;
  const height = 400;
  const m = { left: 70, right: 24, top: 60, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
  const points = chart.series.map((s) => s.points.filter((p): p is [number, number] => finite(p[1]) && (!chart.xLog || p[0] > 0)));
  const xs = [...points.flat().map(([x]) => x), ...(chart.markers ?? []).map((k) => k.point[0])];
  const ys = [...points.flat().map(([, y]) => y), ...(chart.markers ?? []).map((k) => k.point[1])];
  const yLog = chart.yLog === 'auto' ? !chart.yDomain && spansDecades(ys) : chart.yLog === true;

  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (!(x1 > x0)) [x0, x1] = [(Number.isFinite(x0) ? x0 : 1) - 0.5, (Number.isFinite(x0) ? x0 : 1) + 0.5];
  const xScale: Scale = chart.xLog
    ? logScale(x0, x1)
    : { ...linearScale(x0, x1, 8, true), ticks: ticks(x0, x1, Math.max(1, niceStep((x1 - x0) / 8))), label: String };

  let yScale: Scale;
  if (yLog) {
    yScale = logScale(Math.min(...ys), Math.max(...ys));
  } else {
    const [y0, yTop] = chart.yDomain ?? [Math.min(0, ...ys), Math.max(0, ...ys)];
    yScale = linearScale(y0, yTop > y0 ? yTop : y0 + 1, 5, chart.yDomain !== undefined);
  }
  const yFormat = chart.yFormat ?? yScale.label;
  const px = (x: number) => m.left + xScale.at(x) * pw;
  const py = (y: number) => m.top + ph - yScale.at(y) * ph;
  const body: string[] = [text(width / 2, 26, chart.title, 'text-anchor="middle" font-size="16" font-weight="bold"')];

  for (const y of yScale.ticks) {
    body.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e4e4e4"/>`);
    body.push(text(m.left - 8, py(y) + 4, yFormat(y), 'text-anchor="end"'));
  }
  for (const x of xScale.ticks) {
    body.push(`<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    body.push(text(px(x), m.top + ph + 19, xScale.label(x), 'text-anchor="middle"'));
  }
  body.push(`<path d="M${m.left},${m.top} V${m.top + ph} H${m.left + pw}" fill="none" stroke="#333"/>`);
  body.push(text(m.left + pw / 2, height - 12, chart.xLabel, 'text-anchor="middle" font-size="13"'));
  const yLabel = yLog ? `${chart.yLabel} (log scale)` : chart.yLabel;
  body.push(text(18, m.top + ph / 2, yLabel, `text-anchor="middle" font-size="13" transform="rotate(-90 18 ${m.top + ph / 2})"`));

  chart.series.forEach((s, i) => {
    const pts = points[i];
    if (pts.length > 1) {
      body.push(`<polyline points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    // Dense curves (the lr finder's hundred steps) read better without a marker per point.
    if (pts.length <= 60) for (const [x, y] of pts) body.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
  });
  for (const k of chart.markers ?? []) {
    body.push(`<circle cx="${px(k.point[0]).toFixed(1)}" cy="${py(k.point[1]).toFixed(1)}" r="6" fill="none" stroke="${k.color}" stroke-width="2.5"/>`);
  }

  // The legend sits in the top margin, right-aligned, where no curve can run under it.
  let lx = m.left + pw;
  const entries = [...chart.series.map((s) => ({ name: s.name, color: s.color, ring: false })),
    ...(chart.markers ?? []).map((k) => ({ name: k.name, color: k.color, ring: true }))];
  for (const e of entries.reverse()) {
    lx -= 30 + e.name.length * 7.5;
    if (e.ring) {
      body.push(`<circle cx="${lx + 10}" cy="${m.top - 14}" r="5" fill="none" stroke="${e.color}" stroke-width="2"/>`);
    } else {
      body.push(`<line x1="${lx}" x2="${lx + 20}" y1="${m.top - 14}" y2="${m.top - 14}" stroke="${e.color}" stroke-width="2"/>`);
      body.push(`<circle cx="${lx + 10}" cy="${m.top - 14}" r="3" fill="${e.color}"/>`);
    }
    body.push(text(lx + 25, m.top - 10, e.name));
  }
  return svgDocument(width, height, body);
}

/** White to dark blue. */
function shade(fraction: number): string {
  const [from, to] = [[247, 251, 255], [8, 48, 107]];
  return `rgb(${from.map((c, i) => Math.round(c + (to[i] - c) * fraction)).join(',')})`;
}

function shorten(name: string, max: number): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}

/**
 * The confusion matrix as a heat map: rows are true classes, columns predictions, each cell
 * shaded by its share of the row (so rare classes read as clearly as common ones), counts written in.
 */
export function confusionChart(title: string, classes: readonly string[], matrix: readonly (readonly number[])[]): string {
  const n = classes.length;
  const cell = Math.max(6, Math.min(48, Math.round(420 / n)));
  const showLabels = cell >= 10;
  const labels = classes.map((c) => shorten(c, 18));
  const labelWidth = showLabels ? Math.max(...labels.map((l) => l.length)) * 7 + 10 : 0;
  const size = n * cell;
  const m = { left: 36 + labelWidth, top: 56, right: 90, bottom: 44 + labelWidth * 0.75 };
  const natural = m.left + size + m.right;
  const width = Math.max(natural, title.length * 9 + 40);
  m.left += (width - natural) / 2; // centred under a title wider than the matrix
  const height = m.top + size + m.bottom;
  const body: string[] = [
    text(width / 2, 26, title, 'text-anchor="middle" font-size="16" font-weight="bold"'),
    '<defs><linearGradient id="scale" x1="0" y1="1" x2="0" y2="0">' +
      `<stop offset="0" stop-color="${shade(0)}"/><stop offset="1" stop-color="${shade(1)}"/></linearGradient></defs>`,
  ];

  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      const fraction = total ? count / total : 0;
      const [x, y] = [m.left + j * cell, m.top + i * cell];
      body.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${shade(fraction)}" stroke="#ccc" stroke-width="0.5"/>`);
      if (cell >= 20) {
        body.push(text(x + cell / 2, y + cell / 2 + 4, String(count),
          `text-anchor="middle" font-size="${Math.min(13, cell / 2.5).toFixed(0)}" fill="${fraction > 0.5 ? 'white' : '#222'}"`));
      }
    });
  });
  body.push(`<rect x="${m.left}" y="${m.top}" width="${size}" height="${size}" fill="none" stroke="#333"/>`);

  if (showLabels) {
    labels.forEach((label, i) => {
      const c = m.left + i * cell + cell / 2;
      body.push(text(m.left - 6, m.top + i * cell + cell / 2 + 4, label, 'text-anchor="end"'));
      body.push(text(c, m.top + size + 12, label, `text-anchor="end" transform="rotate(-45 ${c} ${m.top + size + 12})"`));
    });
  }
  body.push(text(m.left + size / 2, height - 10, 'predicted class', 'text-anchor="middle" font-size="13"'));
  const tx = m.left - labelWidth - 20;
  body.push(text(tx, m.top + size / 2, 'true class', `text-anchor="middle" font-size="13" transform="rotate(-90 ${tx} ${m.top + size / 2})"`));

  // Colour scale: what a shade means.
  const bx = m.left + size + 24;
  const bh = Math.max(size, 120);
  body.push(`<rect x="${bx}" y="${m.top}" width="14" height="${bh}" fill="url(#scale)" stroke="#333" stroke-width="0.5"/>`);
  for (const f of [0, 0.5, 1]) body.push(text(bx + 20, m.top + bh * (1 - f) + 4, `${f * 100}%`));
  body.push(text(bx, m.top - 8, 'row share'));
  return svgDocument(width, Math.max(height, m.top + bh + 20), body);
}
