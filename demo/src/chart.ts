/**
 * A small SVG line chart: linear axes with ticks, one polyline (or step line) per series, a legend. Redrawn from
 * scratch on every update (a few hundred points at most per series after thinning). It writes the number of
 * points it drew in `data-points` and the series names in `data-series`, which the end-to-end test reads.
 */
const SVG = 'http://www.w3.org/2000/svg';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  /** Draw as a step line (value held until the next point). */
  readonly step?: boolean;
  readonly dashed?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Fixed y range; otherwise from the data (with 0 included). */
  readonly yDomain?: readonly [number, number];
  /** Fixed x range; otherwise from the data. */
  readonly xDomain?: readonly [number, number];
  /** Integer x ticks only. */
  readonly integerX?: boolean;
}

const W = 560;
const H = 300;
const M = { left: 56, right: 16, top: 30, bottom: 42 };

const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] => {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

/** About `count` round tick values covering [lo, hi]. */
export const ticks = (lo: number, hi: number, count: number, integer = false): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step0 = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const step = integer ? Math.max(1, Math.round(step0)) : step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
};

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Number(v.toPrecision(3))));

/** Thin a long series to at most `max` points, keeping the first and the last. */
export const thin = <P>(points: readonly P[], max: number): readonly P[] => {
  if (points.length <= max) return points;
  const stride = points.length / max;
  const out: P[] = [];
  for (let i = 0; i < max - 1; i++) out.push(points[Math.floor(i * stride)]!);
  out.push(points[points.length - 1]!);
  return out;
};

export class LineChart {
  readonly svg: SVGSVGElement;

  constructor(
    container: HTMLElement,
    private readonly options: ChartOptions,
  ) {
    this.svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': options.title, class: 'chart' });
    container.append(this.svg);
    this.draw([]);
  }

  draw(series: readonly Series[]): void {
    const { options: o } = this;
    const svg = this.svg;
    svg.replaceChildren();
    const all = series.flatMap((s) => s.points);
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]).filter(Number.isFinite);
    const [x0, x1] = o.xDomain ?? (xs.length === 0 ? [0, 1] : [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)]);
    let [y0, y1] = o.yDomain ?? (ys.length === 0 ? [0, 1] : [Math.min(0, ...ys), Math.max(0, ...ys)]);
    if (!(y1 > y0)) y1 = y0 + 1;
    const pw = W - M.left - M.right;
    const ph = H - M.top - M.bottom;
    const sx = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * pw;
    const sy = (y: number) => M.top + (1 - (Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * ph;

    svg.append(el('text', { x: M.left, y: 18, class: 'chart-title' }, o.title));
    // Grid and ticks.
    for (const t of ticks(y0, y1, 5)) {
      svg.append(el('line', { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: t === 0 ? 'grid zero' : 'grid' }));
      svg.append(el('text', { x: M.left - 6, y: sy(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(t)));
    }
    for (const t of ticks(x0, x1, 6, o.integerX)) {
      svg.append(el('line', { x1: sx(t), x2: sx(t), y1: M.top + ph, y2: M.top + ph + 4, class: 'axis' }));
      svg.append(el('text', { x: sx(t), y: M.top + ph + 16, 'text-anchor': 'middle', class: 'tick' }, fmt(t)));
    }
    svg.append(el('rect', { x: M.left, y: M.top, width: pw, height: ph, class: 'frame' }));
    svg.append(el('text', { x: M.left + pw / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, o.xLabel));
    svg.append(el('text', { x: 14, y: M.top + ph / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 14 ${M.top + ph / 2})` }, o.yLabel));

    // Lines.
    for (const s of series) {
      const pts = thin(s.points, 800).filter((p) => Number.isFinite(p[1]));
      if (pts.length === 0) continue;
      let d = '';
      pts.forEach((p, i) => {
        const x = sx(p[0]).toFixed(1);
        const y = sy(p[1]).toFixed(1);
        if (i === 0) d += `M${x},${y}`;
        else if (s.step) d += `H${x}V${y}`;
        else d += `L${x},${y}`;
      });
      const attrs: Record<string, string | number> = { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'data-series': s.name, 'data-points': s.points.length };
      if (s.dashed) attrs['stroke-dasharray'] = '5 4';
      svg.append(el('path', attrs));
      if (pts.length === 1) svg.append(el('circle', { cx: sx(pts[0]![0]), cy: sy(pts[0]![1]), r: 3, fill: s.color }));
    }
    // Legend.
    let lx = M.left + 8;
    for (const s of series) {
      const g = el('g', { class: 'legend' });
      g.append(el('line', { x1: lx, x2: lx + 18, y1: M.top + 12, y2: M.top + 12, stroke: s.color, 'stroke-width': 3, ...(s.dashed ? { 'stroke-dasharray': '5 4' } : {}) }));
      g.append(el('text', { x: lx + 22, y: M.top + 16, class: 'legend-text' }, s.name));
      svg.append(g);
      lx += 30 + 8 * s.name.length;
    }
    svg.dataset.series = series.map((s) => s.name).join(',');
    svg.dataset.points = String(Math.max(0, ...series.map((s) => s.points.length)));
  }
}
