/**
 * Word handling shared by the dialects. Every CLI here splits a line on blanks and takes a keyword
 * by any unique prefix of it; HP ProCurve and Juniper ScreenOS also take a double-quoted string as one word (ProCurve `user-name "ops team"`, ScreenOS
 * `set admin password "a b"`), and take a keyword by any unique prefix of it (ProCurve Management
 * and Configuration Guide, "Using the Command Line Interface (CLI)": command completion and
 * abbreviation; ScreenOS CLI Reference Guide, "Command Completion"; CatOS and PIX 6.3 command
 * references: "commands and keywords may be abbreviated to the fewest characters that make them
 * unique"). CatOS and PIX take quotes as ordinary characters (`blankWords`).
 */

/** A command line split into words on runs of blanks, quotes kept as typed (CatOS, PIX). */
export function blankWords(line: string): string[] {
  return line.trim().split(/\s+/).filter((w) => w !== '');
}

/** A decimal integer within [min, max], or undefined. */
export function intIn(word: string | undefined, min: number, max: number): number | undefined {
  if (word === undefined || !/^\d{1,6}$/.test(word)) return undefined;
  const n = Number(word);
  return n >= min && n <= max ? n : undefined;
}

/** Splits a command line into words; a double-quoted string is one word without its quotes. */
export function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      if (line[i] === '"') {
        const end = line.indexOf('"', i + 1);
        const stop = end < 0 ? line.length : end;
        word += line.slice(i + 1, stop);
        i = end < 0 ? line.length : end + 1;
      } else {
        word += line[i];
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

/**
 * The keyword `typed` abbreviates among `keywords`: an exact match, else the one keyword it is a
 * prefix of. Undefined when it matches none or several (both CLIs refuse an ambiguous prefix).
 */
export function keyword<K extends string>(typed: string | undefined, keywords: readonly K[]): K | undefined {
  if (typed === undefined || typed === '') return undefined;
  const lower = typed.toLowerCase();
  const exact = keywords.find((k) => k === lower);
  if (exact) return exact;
  const matches = keywords.filter((k) => k.startsWith(lower));
  return matches.length === 1 ? matches[0] : undefined;
}
