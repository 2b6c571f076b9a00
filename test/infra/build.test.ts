import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction, buildLayer, functionEntries, LAYER_MOUNT, packageOf, runtimeModules, type RuntimeModules } from '../../infra/build.js';

const DRIVERS = ['ssh2', 'pg', 'mysql2', 'ldapts'];
const out = mkdtempSync(join(tmpdir(), 'rpr-build-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the runtime layer and the function bundles', () => {
  let runtime: RuntimeModules;
  beforeAll(async () => {
    runtime = await runtimeModules();
  }, 60_000);

  it('put the engine, the workflow and the SDK clients in the layer, and no driver', () => {
    for (const m of ['layers/engine/engine.ts', 'layers/engine/errors.ts', 'layers/workflow/handler.ts', 'layers/resources/registry.ts']) expect(runtime.modules).toContain(m);
    for (const p of ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', 'zod']) expect(runtime.packages).toContain(p);
    expect([...runtime.packages].filter((p) => DRIVERS.includes(p))).toEqual([]);
    expect([...runtime.modules].filter((m) => /\/adapter\.ts$|^layers\/expect\//.test(m))).toEqual([]);
  });

  it('give each function only its entry, its adapter and its driver: no runtime module is copied into a bundle', async () => {
    for (const entry of functionEntries()) {
      const meta = await buildFunction(entry, join(out, entry), runtime);
      const inputs = Object.keys(meta.inputs);
      expect(inputs.filter((i) => runtime.modules.has(i)), entry).toEqual([]);
      expect(inputs.map(packageOf).filter((p) => p && runtime.packages.has(p)), entry).toEqual([]);
      // Its imports of the runtime are absolute paths into the layer, each one of the layer's entries.
      const imports = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.path.startsWith('/opt/')).map((i) => i.path));
      expect(imports.length, entry).toBeGreaterThan(0);
      for (const i of imports) expect(runtime.entries.map((e) => `${LAYER_MOUNT}/${e.slice('layers/'.length, -3)}.mjs`)).toContain(i);
    }
    const mysql = readFileSync(join(out, 'functions/reset-mysql.ts', 'index.mjs'), 'utf8');
    expect(mysql).not.toMatch(/class ResetEngine|"ResetEngine"/);
  }, 120_000);

  it('build the layer with every entry a function imports', async () => {
    const meta = await buildLayer(join(out, 'layer'), runtime);
    const files = Object.keys(meta.outputs).map((o) => o.slice(o.indexOf('/rpr/') + 1));
    for (const e of runtime.entries) expect(files).toContain(`rpr/${e.slice('layers/'.length, -3)}.mjs`);
    // The descriptors' lazy adapter imports were left out, and with them every driver.
    const inputs = Object.keys(meta.inputs);
    expect(inputs.filter((i) => /\/adapter\.ts$/.test(i) || DRIVERS.includes(packageOf(i) ?? ''))).toEqual([]);
    expect(inputs.filter((i) => i.startsWith('rpr-absent:')).length).toBeGreaterThan(0);
  }, 120_000);

  it('refuse a function that would carry a second copy of a package the layer holds', async () => {
    await expect(buildFunction('test/infra/fixtures/second-zod.ts', join(out, 'second-zod'), runtime)).rejects.toThrow(/imports "zod", which the runtime layer also bundles/);
  }, 60_000);
});
