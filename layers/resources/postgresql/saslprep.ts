import { L_CAT, MAPPED_TO_NOTHING, NON_ASCII_SPACE, PROHIBITED, RAND_AL_CAT } from './saslprep-tables.js';

type Ranges = readonly (readonly [number, number])[];

function parseRanges(text: string): Ranges {
  return text.split(',').map((part) => {
    const [a, b] = part.split('-');
    const start = parseInt(a!, 16);
    return [start, b === undefined ? start : parseInt(b, 16)] as const;
  });
}

function inRanges(code: number, ranges: Ranges): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = ranges[mid]!;
    if (code < start) hi = mid - 1;
    else if (code > end) lo = mid + 1;
    else return true;
  }
  return false;
}

let tables: { space: Ranges; nothing: Ranges; prohibited: Ranges; randAL: Ranges; l: Ranges } | undefined;
function load() {
  tables ??= {
    space: parseRanges(NON_ASCII_SPACE),
    nothing: parseRanges(MAPPED_TO_NOTHING),
    prohibited: parseRanges(PROHIBITED),
    randAL: parseRanges(RAND_AL_CAT),
    l: parseRanges(L_CAT),
  };
  return tables;
}

/**
 * SASLprep (RFC 4013) as PostgreSQL's `pg_saslprep` applies it before hashing a password,
 * so a verifier built here matches what the server would store for the same plaintext.
 * Where PostgreSQL gives up (prohibited characters, bad bidirectional text, nothing left),
 * it hashes the raw UTF-8 bytes; so does this. One PostgreSQL quirk is kept on purpose:
 * the prohibition and bidi checks look at the mapped text before NFKC normalization.
 */
export function saslprep(password: string): string {
  // Pure ASCII is used as it is.
  if ([...password].every((c) => c.charCodeAt(0) < 0x80)) return password;
  const t = load();
  const mapped: number[] = [];
  for (const ch of password) {
    const code = ch.codePointAt(0)!;
    if (inRanges(code, t.space)) mapped.push(0x20);
    else if (!inRanges(code, t.nothing)) mapped.push(code);
  }
  if (mapped.length === 0) return password;
  if (mapped.some((c) => inRanges(c, t.prohibited))) return password;
  if (mapped.some((c) => inRanges(c, t.randAL))) {
    if (mapped.some((c) => inRanges(c, t.l))) return password;
    if (!inRanges(mapped[0]!, t.randAL) || !inRanges(mapped[mapped.length - 1]!, t.randAL)) return password;
  }
  return String.fromCodePoint(...mapped).normalize('NFKC');
}
