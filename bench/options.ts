/** What every bench shares: its `--name N` options, and no SDK notice about Node 22 in its output. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The number given as `--name N`, or `fallback`; anything else stops the bench, naming the option. */
export function numberOption(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name}: expected a number, got ${JSON.stringify(process.argv[i + 1] ?? '')}`);
  return value;
}

/** The median of some timings (the benches that repeat report it, with the range). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
