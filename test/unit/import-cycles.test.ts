import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every TypeScript source under these folders of the repository (no declaration files). */
function sources(...folders: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return out;
}

/** How the check reads modules: the repository's files, or a few in memory for the check's own test. */
interface ModuleHost {
  read(file: string): string;
  exists(file: string): boolean;
}

const repository: ModuleHost = { read: (file) => readFileSync(file, 'utf8'), exists: existsSync };

/**
 * The files a module imports or re-exports from, `import type` included: a cycle of types
 * still ties the modules into one idea. Dynamic `import()` is left out, since loading a module
 * lazily is how a registry reaches an adapter without loading it. Only relative specifiers
 * count; packages cannot be part of a cycle of ours.
 */
function importsOf(file: string, host: ModuleHost): string[] {
  const source = ts.createSourceFile(file, host.read(file), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const statement of source.statements) {
    const specifier =
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)
        ? statement.moduleSpecifier.text
        : undefined;
    if (!specifier?.startsWith('.')) continue;
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
    const resolved = [target, `${target}.ts`, join(target, 'index.ts')].find((p) => p.endsWith('.ts') && host.exists(p));
    if (resolved) out.push(resolved);
  }
  return out;
}

/** The strongly connected components of more than one module, or of one that imports itself (Tarjan), each as a cycle through them. */
function importCycles(files: readonly string[], host: ModuleHost = repository): string[][] {
  const graph = new Map<string, string[]>();
  const pending = [...files];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const imports = importsOf(file, host);
    graph.set(file, imports);
    pending.push(...imports);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) components.push(component);
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components.map((component) => cycleThrough(graph, new Set(component)).map((f) => relative(root, f)));
}

/** One cycle inside a component, from its first module (in name order) back to it, by breadth-first search. */
function cycleThrough(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

/**
 * Cycles found and not broken yet, each with the reason. Any other cycle fails the test, and so
 * does one of these once it is gone: take it off the list then.
 */
const KNOWN_CYCLES: Record<string, string> = {};

describe('the module graph', () => {
  it('has no import cycle among the modules of cli/ and layers/ (type-only imports included) beyond the known ones', () => {
    const cycles = importCycles(sources('cli', 'layers')).map((c) => c.join(' -> '));
    expect(cycles.sort()).toEqual(Object.keys(KNOWN_CYCLES).sort());
  });

  it('lets nothing in bench/ or harness/ reach into test/ but its simulators: benchmarks share the harness and the simulated targets with the tests, not the tests', () => {
    const reached = new Set<string>();
    const pending = sources('bench', 'harness');
    // A simulator is a target, as the harness's servers are: what it is built from is its own business.
    const simulator = (f: string) => relative(root, f).startsWith('test/simulators/');
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      if (!simulator(file)) pending.push(...importsOf(file, repository));
    }
    const intoTest = [...reached].filter((f) => !simulator(f)).map((f) => relative(root, f)).filter((f) => f.startsWith('test/'));
    expect(intoTest).toEqual([]);
  });

  it('finds a cycle made by a type-only import, and none once it is gone; a dynamic import() is no cycle', () => {
    const file = (name: string) => join(root, 'cli', `${name}.ts`);
    const inMemory = (modules: Record<string, string>): ModuleHost => {
      const byPath = new Map(Object.entries(modules).map(([name, text]) => [file(name), text]));
      return { read: (f) => byPath.get(f)!, exists: (f) => byPath.has(f) };
    };
    const program = "import { registerGroup } from './group.js';\nexport const EXIT = { ok: 0 } as const;";
    const group = "import type { Context } from './context.js';\nexport function registerGroup(_: Context) {}";
    const files = [file('program'), file('group'), file('context')];

    const typeCycle = inMemory({ program, group, context: "import type { EXIT } from './program.js';\nexport interface Context { exit: typeof EXIT }" });
    expect(importCycles(files, typeCycle).map((c) => c.join(' -> '))).toEqual(['cli/context.ts -> cli/program.ts -> cli/group.ts -> cli/context.ts']);

    const reExport = inMemory({ program, group, context: "export { EXIT } from './program.js';\nexport interface Context { ok: number }" });
    expect(importCycles(files, reExport)).toHaveLength(1);

    const broken = inMemory({ program, group, context: 'export const EXIT = { ok: 0 } as const;\nexport interface Context { exit: typeof EXIT }' });
    expect(importCycles(files, broken)).toEqual([]);

    const lazy = inMemory({ program, group, context: "export const load = () => import('./program.js');\nexport interface Context { ok: number }" });
    expect(importCycles(files, lazy)).toEqual([]);
  });
});
