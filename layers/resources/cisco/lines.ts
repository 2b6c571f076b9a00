import { z } from 'zod';

/**
 * An IOS line, as `line` takes it in configuration mode: `vty FIRST [LAST]` (the virtual
 * terminals Telnet and SSH sessions land on), `con 0` / `console 0`, or `aux 0` (Cisco IOS
 * Configuration Fundamentals Command Reference, `line`). Written the way the configuration shows
 * it, so the driver can send it as it is.
 */
export const iosLineSchema = z
  .string()
  .regex(/^(vty \d{1,3}( \d{1,3})?|con(sole)? 0|aux 0)$/, 'must be an IOS line: "vty FIRST [LAST]", "con 0", "console 0" or "aux 0"')
  .refine((l) => {
    const m = /^vty (\d+) (\d+)$/.exec(l);
    return !m || Number(m[1]) <= Number(m[2]);
  }, 'must name its vty range lowest first ("vty 0 15")');

/** The lines a line name covers, as [kind, first, last], for overlap checks. */
export function lineRange(line: string): [string, number, number] {
  const parts = line.split(' ');
  const kind = parts[0] === 'console' ? 'con' : parts[0]!;
  const first = Number(parts[1]);
  return [kind, first, parts[2] === undefined ? first : Number(parts[2])];
}

export function linesOverlap(a: string, b: string): boolean {
  const [ka, fa, la] = lineRange(a);
  const [kb, fb, lb] = lineRange(b);
  return ka === kb && fa <= lb && fb <= la;
}
