import { dnProblem } from './dn.js';

/** One attribute=value pair of an RDN, the type lower-cased and the value unescaped. */
export interface Ava {
  readonly type: string;
  readonly value: string;
}

/**
 * Splits a DN (already accepted by dnProblem) into its RDNs, most specific first, each a sorted list
 * of attribute=value pairs with escapes resolved. Only used to compare DNs; the DN sent to the server
 * is always the configured string itself.
 */
export function parseDn(dn: string): Ava[][] {
  const problem = dnProblem(dn);
  if (problem) throw new Error(`not a distinguished name: ${problem}`);
  const rdns: Ava[][] = [];
  let rdn: Ava[] = [];
  let i = 0;
  while (i < dn.length) {
    const eq = dn.indexOf('=', i);
    const type = dn.slice(i, eq).toLowerCase();
    i = eq + 1;
    let value = '';
    if (dn[i] === '#') {
      const start = i;
      i++;
      while (i < dn.length && /[0-9A-Fa-f]/.test(dn[i]!)) i++;
      value = dn.slice(start, i).toLowerCase();
    } else {
      while (i < dn.length && dn[i] !== ',' && dn[i] !== '+') {
        if (dn[i] === '\\') {
          const hex = dn.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
            // Hex escapes may spell UTF-8 sequences: collect consecutive ones and decode them together.
            const bytes: number[] = [];
            while (dn[i] === '\\' && /^[0-9A-Fa-f]{2}$/.test(dn.slice(i + 1, i + 3))) {
              bytes.push(parseInt(dn.slice(i + 1, i + 3), 16));
              i += 3;
            }
            value += Buffer.from(bytes).toString('utf8');
            continue;
          }
          value += dn[i + 1];
          i += 2;
          continue;
        }
        value += dn[i];
        i++;
      }
    }
    rdn.push({ type, value });
    const sep = dn[i];
    i++;
    if (sep !== '+') {
      rdns.push(rdn.sort((a, b) => (a.type === b.type ? cmp(a.value.toLowerCase(), b.value.toLowerCase()) : cmp(a.type, b.type))));
      rdn = [];
    }
  }
  return rdns;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Values of naming attributes (dc, ou, cn, uid, o) match case-insensitively on every server we support. */
function sameRdn(a: Ava[], b: Ava[]): boolean {
  return a.length === b.length && a.every((x, k) => x.type === b[k]!.type && x.value.toLowerCase() === b[k]!.value.toLowerCase());
}

/** Whether `dn` is `base` or lies below it (RDN by RDN, escapes resolved, types and values case-insensitive). */
export function isDnUnder(dn: string, base: string): boolean {
  const d = parseDn(dn);
  const b = parseDn(base);
  if (b.length > d.length) return false;
  const tail = d.slice(d.length - b.length);
  return tail.every((rdn, k) => sameRdn(rdn, b[k]!));
}

/** Whether two DNs name the same entry, by the same comparison as isDnUnder. */
export function sameDn(a: string, b: string): boolean {
  const x = parseDn(a);
  const y = parseDn(b);
  return x.length === y.length && x.every((rdn, k) => sameRdn(rdn, y[k]!));
}
