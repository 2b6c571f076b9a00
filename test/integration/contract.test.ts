import { describe, it } from 'vitest';
import { adapterContract } from '../contracts/adapter.js';
import { FIXTURES } from '../contracts/fixtures/index.js';

/**
 * The adapter contract (test/contracts/adapter.ts) for every fixture, on its real server or
 * simulator. A fixture whose target is not here is skipped with the reason, except under CI.
 */
for (const fixture of FIXTURES) {
  const reason = fixture.unavailable();
  if (reason === undefined) adapterContract(fixture);
  else if (process.env.CI === 'true' && process.env.RPR_TEST_SERVERS !== 'skip') {
    describe(`adapter contract: ${fixture.name}`, () => it('needs its target', () => { throw new Error(`${fixture.against.id} unavailable under CI: ${reason}`); }));
  } else describe.skip(`adapter contract: ${fixture.name} [skipped: ${reason}]`, () => it('needs its target', () => undefined));
}
