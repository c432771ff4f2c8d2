/**
 * A timeline as SVG: panels stacked over one time axis, each a few series of (seconds, value) points drawn
 * as lines (a step line for counts such as replicas). Used for the HPA run on the cluster.
 */

export interface Series {
  name: string;
  points: [number, number][];
  step?: boolean;
  color: string;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const W = 760;
const PANEL_H = 130;
const LEFT = 60;
const RIGHT = 150;
const TOP = 30;
const GAP = 36;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A round top for an axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function path(s: Series, x: (t: number) => number, y: (v: number) => number): string {
  const pts = s.points.flatMap(([t, v], i) =>
    s.step && i > 0 ? [[t, s.points[i - 1]![1]] as [number, number], [t, v] as [number, number]] : [[t, v] as [number, number]],
  );
  return pts.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
}

function panel(p: Panel, top: number, x: (t: number) => number): string {
  const max = niceMax(Math.max(0, ...p.series.flatMap((s) => s.points.map(([, v]) => v))));
  const y = (v: number) => top + PANEL_H - (v / max) * PANEL_H;
  const grid = [0, 0.5, 1].map(
    (f) =>
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#ddd"/><text x="${LEFT - 6}" y="${y(max * f) + 4}" text-anchor="end">${max * f}</text>`,
  );
  const lines = p.series.map((s) => `<path d="${path(s, x, y)}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
  const legend = p.series.map(
    (s, i) =>
      `<line x1="${W - RIGHT + 12}" x2="${W - RIGHT + 30}" y1="${top + 12 + i * 16}" y2="${top + 12 + i * 16}" stroke="${s.color}" stroke-width="2"/><text x="${W - RIGHT + 36}" y="${top + 16 + i * 16}">${esc(s.name)}</text>`,
  );
  return [`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`, ...grid, ...lines, ...legend].join(
    '\n',
  );
}

/** The SVG of the panels over the time axis (seconds). */
export function timelineSvg(title: string, panels: Panel[], xLabel: string): string {
  const end = Math.max(1, ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([t]) => t))));
  const x = (t: number) => LEFT + (t / end) * (W - LEFT - RIGHT);
  const height = TOP + panels.length * (PANEL_H + GAP) + 30;
  const ticks = Array.from({ length: 7 }, (_, i) => Math.round((end * i) / 6));
  const axisY = TOP + panels.length * (PANEL_H + GAP) - GAP + 4;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...panels.map((p, i) => panel(p, TOP + 18 + i * (PANEL_H + GAP), x)),
    ...ticks.map((t) => `<text x="${x(t)}" y="${axisY + 14}" text-anchor="middle">${t}</text>`),
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${axisY + 28}" text-anchor="middle">${esc(xLabel)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
