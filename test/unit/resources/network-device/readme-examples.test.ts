import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResource } from '../../../../layers/resources/registry.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
const block = readme.split('<!-- device-examples:start -->')[1]?.split('<!-- device-examples:end -->')[0] ?? '';
const examples = [...block.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

describe("the README's device configuration examples", () => {
  it('are there, one per vendor', () => {
    const types = examples.map((e) => e.type);
    expect(types).toEqual(['cisco-ios', 'juniper-netscreen', 'hp-procurve', 'as400', 'ilom', 'xscf']);
  });

  it.each(examples.map((e) => [e.type, e] as const))('%s parses as written', (_, example) => {
    expect(parseResource(example)).toMatchObject({ id: example.id, type: example.type });
  });
});
