/** The report's text helpers, shared by its sections (techreport.ts) and its cluster sections (clusterreport.ts). */

export type Lang = 'en' | 'es';

/** The text in the section's language. */
export const L = (lang: Lang, en: string, es: string) => (lang === 'en' ? en : es);

/** Numbers in both languages as Guatemala writes them, like English: 10,000 and 2.19; a dash for none. */
export const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: 'always' });

/** A Markdown table; the columns from `numericFrom` on are right-aligned. */
export function table(head: string[], rows: string[][], numericFrom = 1): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i >= numericFrom ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
