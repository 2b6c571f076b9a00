import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { supportMatrix } from '../../cli/support-matrix.js';
import { RESOURCE_TYPES } from '../../layers/resources/common.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('holds the support matrix generated from the registry, with a row for every resource type', () => {
    const block = readme.split('<!-- support-matrix:start -->')[1]?.split('<!-- support-matrix:end -->')[0]?.trim();
    expect(block).toBe(supportMatrix());
    for (const type of RESOURCE_TYPES) expect(block).toContain(`| \`${type}\` |`);
    expect(block).not.toContain('NOT TESTED');
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
