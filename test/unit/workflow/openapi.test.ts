import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, OPENAPI_FILE, openApiText } from '../../../layers/workflow/openapi.js';

describe('openapi.json', () => {
  it('is the document generated from the handlers\' schemas (regenerate: npx tsx layers/workflow/openapi.ts)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText());
  });

  it('describes both routes, and every $ref it uses resolves', () => {
    const doc = buildOpenApi() as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(['/resets', '/resets/{id}']);
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(doc.components.schemas).toHaveProperty(ref);
    expect(JSON.stringify(doc.components.schemas.ResetRequest)).toContain('idempotencyKey');
    expect(JSON.stringify(doc)).not.toMatch(/"password"/i);
  });
});
