import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_ADAPTERS } from '../../../layers/resources/adapters.js';
import { FUNCTION_FAMILIES, familyOf } from '../../../layers/workflow/families.js';
import { repoRoot } from '../../servers/index.js';

describe('FUNCTION_FAMILIES: one reset function per implemented adapter family', () => {
  const families = Object.entries(FUNCTION_FAMILIES);

  it('serves exactly the types ALL_ADAPTERS implements, each type by one family', () => {
    const served = families.flatMap(([, f]) => [...f.types]);
    expect(new Set(served).size).toBe(served.length);
    expect([...served].sort()).toEqual(Object.keys(ALL_ADAPTERS).sort());
  });

  it.each(families)('%s: its entry file exists and carries only its own adapters, the same ones as ALL_ADAPTERS', async (name, family) => {
    expect(existsSync(join(repoRoot, family.entry))).toBe(true);
    const entry = (await import(join(repoRoot, family.entry))) as { handler: { types: readonly string[] } & ((e: unknown) => unknown); adapters: Record<string, unknown> };
    expect(typeof entry.handler).toBe('function');
    expect([...entry.handler.types].sort()).toEqual([...family.types].sort());
    expect(Object.keys(entry.adapters).sort()).toEqual([...family.types].sort());
    for (const t of family.types) expect(entry.adapters[t]).toBe(ALL_ADAPTERS[t]);
    expect(familyOf(family.types[0]!)).toBe(name);
  });

  it('a type without an adapter has no family (and so no function)', () => {
    expect(familyOf('cisco-ios')).toBeUndefined();
  });
});
