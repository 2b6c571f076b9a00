/**
 * The little of bash's and bsh's syntax the IBM i simulator's PASE shell needs (bash(1),
 * "SHELL GRAMMAR", "QUOTING", "Parameter Expansion"; AIX bsh has no ${#NAME}): lists joined by
 * `;`, `&&` and `||`, pipelines, words with single and double quotes and backslashes, $NAME,
 * ${NAME}, $? and (bash) ${#NAME}, `#` comments, and the printf builtin's %s and %d.
 */

export type Pipeline = string[][];

type List = { op: ';' | '&&' | '||'; text: string }[];

/** A command line's lists: each pipeline's text and what joins it to the one before. */
export function split(line: string): List | string {
  const out: List = [];
  let op: ';' | '&&' | '||' = ';';
  let start = 0;
  let quote: string | undefined;
  const push = (end: number, next: ';' | '&&' | '||', skip: number): number => {
    const text = line.slice(start, end);
    if (text.trim() !== '') out.push({ op, text });
    op = next;
    start = end + skip;
    return start;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return split(line.slice(0, i));
    else if (c === ';') i = push(i, ';', 1) - 1;
    else if (line.startsWith('&&', i)) i = push(i, '&&', 2) - 1;
    else if (line.startsWith('||', i)) i = push(i, '||', 2) - 1;
  }
  if (quote) return UNTERMINATED;
  push(line.length, ';', 0);
  return out;
}

/**
 * Splits a command line into `;`-separated pipelines of words, expanding $NAME and ${NAME} (and,
 * in bash, ${#NAME}); returns the shell's complaint for a line it cannot read.
 */
export function lex(line: string, vars: ReadonlyMap<string, string>, bash: boolean): Pipeline[] | string {
  try {
    return words(line, vars, bash);
  } catch (e) {
    if (e instanceof SyntaxError) return e.message;
    throw e;
  }
}

const UNTERMINATED = 'syntax error: unterminated quoted string';

function words(line: string, vars: ReadonlyMap<string, string>, bash: boolean): Pipeline[] | string {
  const statements: Pipeline[] = [[[]]];
  let word: string | undefined;
  const current = () => statements[statements.length - 1]!;
  const end = () => {
    if (word !== undefined) current()[current().length - 1]!.push(word);
    word = undefined;
  };
  const variable = (i: number): [string, number] => {
    if (line[i + 1] === '?') return [vars.get('?') ?? '0', i + 2];
    const length = /^\$\{#([A-Za-z_][A-Za-z0-9_]*)\}/.exec(line.slice(i));
    if (length && bash) return [String((vars.get(length[1]!) ?? '').length), i + length[0].length];
    if (length) throw new SyntaxError(`${length[0]}: bad substitution`);
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(line.slice(i));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(line.slice(i));
    const m = braced ?? plain;
    return m ? [vars.get(m[1]!) ?? '', i + m[0].length] : ['$', i + 1];
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return UNTERMINATED;
      word = (word ?? '') + line.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      for (; j < line.length && line[j] !== '"'; ) {
        if (line[j] === '\\' && /["\\$`]/.test(line[j + 1] ?? '')) {
          s += line[j + 1];
          j += 2;
        } else if (line[j] === '$') {
          const [v, next] = variable(j);
          s += v;
          j = next;
        } else s += line[j++];
      }
      if (j >= line.length) return UNTERMINATED;
      word = (word ?? '') + s;
      i = j + 1;
    } else if (c === '$') {
      const [v, next] = variable(i);
      word = (word ?? '') + v;
      i = next;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[i + 1];
      i += 2;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (/\s/.test(c)) {
      end();
      i++;
    } else if (c === '|' || c === ';') {
      end();
      if (c === '|') current().push([]);
      else statements.push([[]]);
      i++;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  end();
  return statements.filter((p) => p.some((w) => w.length > 0));
}

/** The printf builtin: %s, %d (and %%), with \n, \t and \\ in the format; the format is reused for extra arguments. */
export function printf(args: string[]): string {
  const [format = '', ...rest] = args;
  const escape = (s: string) => s.replace(/\\(n|t|\\)/g, (_, e: string) => (e === 'n' ? '\n' : e === 't' ? '\t' : '\\'));
  let out = '';
  let k = 0;
  do {
    out += escape(format).replace(/%(%|s|d)/g, (_, f: string) => (f === '%' ? '%' : f === 'd' ? String(Number(rest[k++] ?? 0) || 0) : (rest[k++] ?? '')));
  } while (k < rest.length && /%[sd]/.test(format));
  return out;
}
