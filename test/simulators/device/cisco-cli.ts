/**
 * An IOS-style command parser: a tree of keywords and arguments per mode, matched as the
 * "Cisco IOS Configuration Fundamentals Configuration Guide", "Using the Cisco IOS Command-Line
 * Interface" describes: a keyword may be abbreviated to any prefix that is unique among the
 * words allowed at that point (`sh run`, `conf t`, `wr mem`); an exact match wins over longer
 * keywords; `?` lists what may come next (after a space) or the keywords that complete a partial
 * word; errors are "% Ambiguous command:", "% Incomplete command." and "% Invalid input detected
 * at '^' marker." with a caret under the first character IOS could not take. Generic: CatOS- and
 * PIX-style dialects can build their own trees on it.
 */

/** Argument kinds: one word, the rest of the line as typed, or a decimal number in a range. */
export type CliArgKind = 'WORD' | 'LINE' | readonly [number, number];

interface CliNodeBase<C> {
  readonly help: string;
  readonly children?: readonly CliNode<C>[];
  /** Runs when the line ends at this node (`<cr>` in the help). */
  readonly run?: (ctx: C, args: CliArgs) => void | Promise<void>;
  /** A command of the vendor's CLI that the simulator does not simulate: recorded when used, never run. */
  readonly unsimulated?: boolean;
  /** Whether the node is offered in this context (a privilege level, say). */
  readonly when?: (ctx: C) => boolean;
}

export interface CliKeyword<C> extends CliNodeBase<C> {
  readonly keyword: string;
}

export interface CliArg<C> extends CliNodeBase<C> {
  readonly arg: CliArgKind;
  /** The name the value goes under in CliArgs. */
  readonly name: string;
}

export type CliNode<C> = CliKeyword<C> | CliArg<C>;

export interface CliArgs {
  /** Argument values by name. */
  readonly values: Readonly<Record<string, string>>;
  /** The keywords matched, in full (for a handler shared by several paths). */
  readonly keywords: readonly string[];
}

export type CliParse<C> =
  | { readonly kind: 'empty' }
  | { readonly kind: 'ok'; readonly node: CliNode<C>; readonly args: CliArgs }
  | { readonly kind: 'unsimulated'; readonly args: CliArgs }
  | { readonly kind: 'ambiguous'; readonly text: string }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly column: number; readonly tokenIndex: number };

interface Token {
  readonly text: string;
  readonly start: number;
}

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(line)) !== null) tokens.push({ text: m[0], start: m.index });
  return tokens;
}

function offered<C>(nodes: readonly CliNode<C>[] | undefined, ctx: C): CliNode<C>[] {
  return (nodes ?? []).filter((n) => !n.when || n.when(ctx));
}

function argMatches(kind: CliArgKind, text: string): boolean {
  if (kind === 'WORD' || kind === 'LINE') return true;
  return /^\d+$/.test(text) && Number(text) >= kind[0] && Number(text) <= kind[1];
}

type Step<C> = { node: CliNode<C> } | { ambiguous: true } | { none: true };

/** Which node a token selects among those offered. */
function step<C>(nodes: CliNode<C>[], text: string): Step<C> {
  const lower = text.toLowerCase();
  const keywords = nodes.filter((n): n is CliKeyword<C> => 'keyword' in n && n.keyword.toLowerCase().startsWith(lower));
  const exact = keywords.find((k) => k.keyword.toLowerCase() === lower);
  if (exact) return { node: exact };
  if (keywords.length === 1) return { node: keywords[0]! };
  if (keywords.length > 1) return { ambiguous: true };
  const arg = nodes.find((n): n is CliArg<C> => 'arg' in n && argMatches(n.arg, text));
  return arg ? { node: arg } : { none: true };
}

/** Walks the tree along a line; `partial` leaves the last token unmatched (for `?` after a partial word). */
function walk<C>(line: string, roots: readonly CliNode<C>[], ctx: C) {
  const tokens = tokenize(line);
  const values: Record<string, string> = {};
  const keywords: string[] = [];
  let nodes = offered(roots, ctx);
  let current: CliNode<C> | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const s = step(nodes, token.text);
    if ('ambiguous' in s) return { error: { kind: 'ambiguous', text: line.slice(0, token.start + token.text.length).trim() } as const, tokens };
    if ('none' in s) return { error: { kind: 'invalid', column: token.start, tokenIndex: i } as const, tokens };
    current = s.node;
    if (current.unsimulated) return { current, nodes: [] as CliNode<C>[], args: { values, keywords }, tokens, consumedAll: true };
    if ('keyword' in current) keywords.push(current.keyword);
    else if (current.arg === 'LINE') {
      values[current.name] = line.slice(token.start);
      return { current, nodes: [] as CliNode<C>[], args: { values, keywords }, tokens, consumedAll: true };
    } else values[current.name] = token.text;
    nodes = offered(current.children, ctx);
  }
  return { current, nodes, args: { values, keywords }, tokens, consumedAll: false };
}

export function parse<C>(line: string, roots: readonly CliNode<C>[], ctx: C): CliParse<C> {
  const w = walk(line, roots, ctx);
  if ('error' in w) return w.error!;
  if (!w.current) return { kind: 'empty' };
  if (w.current.unsimulated) return { kind: 'unsimulated', args: w.args };
  if (!w.current.run) return { kind: 'incomplete' };
  return { kind: 'ok', node: w.current, args: w.args };
}

function label<C>(n: CliNode<C>): string {
  if ('keyword' in n) return n.keyword;
  return typeof n.arg === 'string' ? n.arg : `<${n.arg[0]}-${n.arg[1]}>`;
}

/**
 * The context help for a line ending in "?": after a space (or alone) the words that may come
 * next with their help, and `<cr>` when the line may end there; right after a partial word the
 * keywords it may be completed to. Undefined result text means a parse error, given instead.
 */
export function help<C>(lineWithQuestion: string, roots: readonly CliNode<C>[], ctx: C, heading?: string): { text: string } | { error: CliParse<C> } {
  const line = lineWithQuestion.slice(0, -1);
  const partial = line.length > 0 && !/\s$/.test(line);
  const tokens = tokenize(line);
  const before = partial ? line.slice(0, tokens[tokens.length - 1]!.start) : line;
  const w = walk(before, roots, ctx);
  if ('error' in w) return { error: w.error! };
  if (partial) {
    const word = tokens[tokens.length - 1]!.text.toLowerCase();
    const names = w.nodes.filter((n): n is CliKeyword<C> => 'keyword' in n && n.keyword.toLowerCase().startsWith(word)).map((n) => n.keyword);
    const args = w.nodes.filter((n) => 'arg' in n && argMatches(n.arg, word)).map(label);
    const all = [...names, ...args];
    return all.length === 0 ? { text: '% Unrecognized command\n' } : { text: all.join('  ') + '\n\n' };
  }
  const rows = w.nodes.map((n) => [label(n), n.help] as const);
  if (w.current?.run) rows.push(['<cr>', '']);
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  const body = rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`.trimEnd()).join('\n');
  return { text: (heading && !w.current ? `${heading}\n` : '') + body + '\n\n' };
}

/** The error text IOS prints for a failed parse; `promptLength` places the caret under the typed line. */
export function errorText<C>(result: CliParse<C>, promptLength: number): string {
  switch (result.kind) {
    case 'ambiguous':
      return `% Ambiguous command:  "${result.text}"\n`;
    case 'incomplete':
      return '% Incomplete command.\n\n';
    case 'invalid':
      return `${' '.repeat(promptLength + result.column)}^\n% Invalid input detected at '^' marker.\n\n`;
    default:
      return '';
  }
}

/** Keywords of the vendor's CLI that the simulator lists (for abbreviation and `?`) but does not simulate. */
export function unsimulated<C>(entries: readonly (readonly [string, string])[], when?: (ctx: C) => boolean): CliKeyword<C>[] {
  return entries.map(([keyword, helpText]) => ({ keyword, help: helpText, unsimulated: true, ...(when ? { when } : {}) }));
}
