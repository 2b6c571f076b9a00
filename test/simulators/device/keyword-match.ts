/**
 * Keyword abbreviation as CatOS and PIX 6.3 take it (their command references: "commands and
 * keywords may be abbreviated to the fewest characters that make them unique"): a word stands for
 * the one keyword it is a case-insensitive prefix of, or for a keyword it spells out in full.
 * Kept apart from the IOS parser (cisco-cli.ts), which has its own context help.
 */

/** The keyword `word` abbreviates among `keywords`; undefined when none or several match. */
export function matchKeyword<K extends string>(word: string | undefined, keywords: readonly K[]): K | undefined {
  if (word === undefined || word === '') return undefined;
  const w = word.toLowerCase();
  const exact = keywords.find((k) => k === w);
  if (exact !== undefined) return exact;
  const hits = keywords.filter((k) => k.startsWith(w));
  return hits.length === 1 ? hits[0] : undefined;
}

/** A command line split into words on runs of blanks. */
export function words(line: string): string[] {
  return line.trim().split(/\s+/).filter((w) => w !== '');
}

/** A decimal integer within [min, max], or undefined. */
export function intIn(word: string | undefined, min: number, max: number): number | undefined {
  if (word === undefined || !/^\d{1,6}$/.test(word)) return undefined;
  const n = Number(word);
  return n >= min && n <= max ? n : undefined;
}
