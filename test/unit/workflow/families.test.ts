import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { implementedTypes, RESOURCE_TYPE_DEFINITIONS } from '../../../layers/resources/registry.js';
import { familyOf, functionFamilies } from '../../../layers/workflow/families.js';
import { repoRoot } from '../../../harness/servers/index.js';

describe('functionFamilies: one reset function per family the descriptors name', () => {
  const families = Object.entries(functionFamilies());

  it('serves exactly the implemented types, each type by one family', () => {
    const served = families.flatMap(([, f]) => [...f.types]);
    expect(new Set(served).size).toBe(served.length);
    expect([...served].sort()).toEqual(implementedTypes());
  });

  it('has an entry for every reset function file and a file for every entry', () => {
    const files = readdirSync(join(repoRoot, 'functions')).filter((f) => f.startsWith('reset-')).map((f) => `functions/${f}`);
    expect(files.sort()).toEqual(families.map(([, f]) => f.entry).sort());
  });

  it.each(families)('%s: its entry carries only its own adapters, the very ones its descriptors load', async (name, family) => {
    expect(existsSync(join(repoRoot, family.entry))).toBe(true);
    const entry = (await import(join(repoRoot, family.entry))) as { handler: { types: readonly string[] } & ((e: unknown) => unknown); adapters: Record<string, unknown> };
    expect(typeof entry.handler).toBe('function');
    expect([...entry.handler.types].sort()).toEqual([...family.types].sort());
    expect(Object.keys(entry.adapters).sort()).toEqual([...family.types].sort());
    for (const t of family.types) {
      const implementation = RESOURCE_TYPE_DEFINITIONS[t].implementation;
      expect(entry.adapters[t]).toBe(await implementation.adapter());
    }
    expect(familyOf(family.types[0]!)).toBe(name);
  });

  it('a name that is no type has no family (and so no function)', () => {
    expect(familyOf('no-such-type')).toBeUndefined();
  });
});
