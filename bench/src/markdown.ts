/** The report's text helpers, shared by its sections (techreport.ts), its cluster sections (clusterreport.ts) and its figures. */

export type Lang = 'en' | 'es';

/** The text in the section's language. */
export const L = (lang: Lang, en: string, es: string) => (lang === 'en' ? en : es);

/** Numbers in both languages as Guatemala writes them, like English: 10,000 and 2.19; a dash for none. */
export const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: 'always' });

/** A chart's file under docs/report: the Spanish one beside the English one. */
export const svgFile = (lang: Lang, name: string) => `${name}${lang === 'es' ? '.es' : ''}.svg`;

/** A chart in the report, in the section's language. */
export const chart = (lang: Lang, name: string, alt: string) => `![${alt}](report/${svgFile(lang, name)})`;

/** A result file, linked from docs/. */
export const link = (f: string) => `[${f}](../bench/results/${f})`;

/** Where a section's figures come from: its result files and the commits they were measured on. */
export const sourceOf = (lang: Lang, files: readonly string[], runs: readonly { commit: string }[]) =>
  `${L(lang, 'Source', 'Fuente')}: ${files.map(link).join(', ')} (commit ${[...new Set(runs.map((r) => r.commit))].join(', ')}).`;

/** A chart's first lines: its size, its font, a white ground. */
export const svgHead = (w: number, h: number) => [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
  `<rect width="${w}" height="${h}" fill="white"/>`,
];

/** Text escaped for an SVG element. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A Markdown table; the columns from `numericFrom` on are right-aligned. */
export function table(head: string[], rows: string[][], numericFrom = 1): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i >= numericFrom ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
