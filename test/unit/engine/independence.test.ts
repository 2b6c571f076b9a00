import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../../../layers/resources/common.js';
import { repoRoot } from '../../../harness/servers/index.js';

/** Every source file of the engine. */
function engineFiles(dir = join(repoRoot, 'layers/engine')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? engineFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('the engine is given the registry: it knows no resource type of its own', () => {
  const files = engineFiles().map((f) => ({ path: relative(repoRoot, f), text: readFileSync(f, 'utf8') }));

  it('imports nothing from layers/resources', () => {
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) => /from '(\.\.\/)+resources\//.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('names no resource type', () => {
    const named = files.flatMap((f) => RESOURCE_TYPES.filter((t) => new RegExp(`['"\`]${t}['"\`]`).test(f.text)).map((t) => `${f.path}: ${t}`));
    expect(named).toEqual([]);
  });
});
