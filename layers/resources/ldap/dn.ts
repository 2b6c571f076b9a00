import { z } from 'zod';
import { hasControlCharacter } from '../../engine/policy.js';

/** Characters that must be escaped with "\" anywhere in an attribute value (RFC 4514 section 2.4), and NUL. */
const ESCAPED = '"+,;<>\\';
const HEX = /^[0-9A-Fa-f]{2}$/;
const ATTRIBUTE_TYPE = /^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$/;

/**
 * Checks a distinguished name against RFC 4514's string form: attribute=value pairs joined
 * by "," (and "+" within a multi-valued RDN), specials escaped with "\" or as hex pairs.
 * Stricter than the RFC where no account needs the leniency: at least one RDN, no empty values,
 * no control characters at all (raw or hex-escaped), and no spaces around separators.
 * Returns a message, or undefined when the DN is well formed.
 */
export function dnProblem(dn: string): string | undefined {
  if (dn.length === 0) return 'must not be empty';
  if (hasControlCharacter(dn)) return 'must not hold control characters';
  let i = 0;
  for (;;) {
    // attributeType
    const eq = dn.indexOf('=', i);
    if (eq < 0) return `expected "attribute=value" at position ${i + 1}`;
    const attr = dn.slice(i, eq);
    if (!ATTRIBUTE_TYPE.test(attr)) return `"${attr}" is not an attribute type (a name like "cn" or an OID), at position ${i + 1}`;
    i = eq + 1;
    // attributeValue
    const start = i;
    if (dn[i] === '#') {
      // hexstring form: "#" followed by hex pairs (a BER encoding)
      i++;
      while (i < dn.length && /[0-9A-Fa-f]/.test(dn[i]!)) i++;
      if ((i - start - 1) % 2 !== 0 || i - start < 3) return `value at position ${start + 1} must be "#" followed by hex pairs`;
    } else {
      let value = '';
      while (i < dn.length && dn[i] !== ',' && dn[i] !== '+') {
        const c = dn[i]!;
        if (c === '\\') {
          const next = dn[i + 1];
          if (next === undefined) return 'ends with an unfinished "\\" escape';
          if (HEX.test(dn.slice(i + 1, i + 3))) {
            const code = parseInt(dn.slice(i + 1, i + 3), 16);
            if (code < 0x20 || code === 0x7f) return `escapes a control character at position ${i + 1}`;
            value += String.fromCharCode(code);
            i += 3;
            continue;
          }
          if (!`${ESCAPED} #=`.includes(next)) return `"\\${next}" at position ${i + 1} is not a valid escape`;
          value += next;
          i += 2;
          continue;
        }
        if (`";<>=`.includes(c)) {
          // "=" is legal unescaped in RFC 4514 but is only ever a typo for a missing ","; we ask for "\=".
          return `"${c}" at position ${i + 1} must be escaped as "\\${c}"`;
        }
        if (c === ' ' && (i === start || i + 1 === dn.length || dn[i + 1] === ',' || dn[i + 1] === '+')) {
          return `a space at the start or end of a value (position ${i + 1}) must be escaped as "\\ "`;
        }
        value += c;
        i++;
      }
      if (value.length === 0) return `the value of "${attr}" is empty`;
    }
    if (i === dn.length) return undefined;
    // separator: "," or "+"
    i++;
    if (i === dn.length) return 'ends with a separator';
  }
}

export function isDn(dn: string): boolean {
  return dnProblem(dn) === undefined;
}

/** A distinguished name in RFC 4514 string form; see dnProblem. */
export const dnSchema = z
  .string()
  .max(1024)
  .superRefine((dn, ctx) => {
    const problem = dnProblem(dn);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be a distinguished name (RFC 4514): ${problem}` });
  });
