import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPE_DEFINITIONS } from '../../layers/resources/registry.js';
import { FIXTURES } from '../contracts/fixtures/index.js';

/**
 * The support matrix's "test suite checks it against" column claims only what the suite runs:
 * each implemented type's `testedAgainst.using` is exactly the targets of its adapter-contract
 * fixtures (test/contracts/fixtures), and its kind says "simulator" when any of them is one.
 */
describe('the support matrix names what the adapter contract runs', () => {
  const implemented = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => ({ type: d.type, tested: d.implementation.testedAgainst }));

  it.each(implemented.map((t) => [t.type, t]))('%s: `using` is the set of its fixtures\' targets, and the kind agrees', (_, { type, tested }) => {
    const fixtures = FIXTURES.filter((f) => f.type === type);
    expect(new Set(tested.using), `fixtures of ${type}: ${fixtures.map((f) => f.name).join(', ') || 'none'}`).toEqual(new Set(fixtures.map((f) => f.against.id)));
    expect(tested.using.length, `${type} names no target`).toBeGreaterThan(0);
    expect(tested.kind).toBe(fixtures.some((f) => f.against.kind === 'simulator') ? 'simulator' : 'real server');
  });

  it('every fixture is of an implemented type, and says its kind as its target is', () => {
    const types = new Set(implemented.map((t) => t.type));
    for (const f of FIXTURES) {
      expect(types.has(f.type), `${f.name}: ${f.type} is not implemented`).toBe(true);
      // Simulator ids are the ones of test/simulators; the rest are the real test servers.
      const simulator = f.against.id === 'windows-openssh' || f.against.id === 'tds' || f.against.id === 'tds5' || f.against.id === 'tns' || f.against.id.startsWith('unix-shells:') || f.against.id.startsWith('device:') || f.against.id.startsWith('https:');
      expect(f.against.kind, f.name).toBe(simulator ? 'simulator' : 'real server');
    }
  });
});
