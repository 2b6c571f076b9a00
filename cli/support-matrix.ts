/**
 * The README's support matrix, made from the types' descriptors so it cannot drift from the
 * code: `npx tsx cli/support-matrix.ts` prints it; a test checks the README holds it. Its last
 * column is each type's `testedAgainst`, whose `using` test/unit/support-matrix.test.ts holds
 * equal to the targets the adapter contract's fixtures run against.
 */
import { RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function supportMatrix(): string {
  const rows = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => {
    const tested = d.implementation.testedAgainst;
    return `| \`${d.type}\` | ${cell(d.title)} | ${d.defaultPort} | ${cell(d.changedBy)} | ${d.verification}: ${cell(d.verifiedBy)} | ${tested.kind}: ${cell(tested.what)} |`;
  });
  return [
    '| type | target | default port | how it is changed | how it is verified | test suite checks it against |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${supportMatrix()}\n`);
