import { afterAll, beforeAll, expect, it } from 'vitest';
import { DYNALITE_TABLE_NAME, openDynaliteState, type DynaliteState } from '../../../../layers/engine/stores/dynalite-state.js';
import { DynamoWriteBudget } from '../../../../layers/engine/stores/write-budget.js';

/**
 * Takers asking at once, on a DynamoDB that applies each conditional update to an item atomically,
 * as DynamoDB does. This runs on dynalite, which locks an item for the length of an UpdateItem
 * (dynalite/actions/updateItem.js, `itemDb.lock`), and not on moto: moto's server is threaded
 * (moto/server.py, `run_simple(..., threaded=True)`) and its DynamoDB backend takes no lock around
 * a conditional update, so two updates can both pass one condition there, which real DynamoDB never
 * allows. The budget's other behaviour is tested on moto (test/integration/aws/write-budget.test.ts).
 */
let dynalite: DynaliteState;
beforeAll(async () => {
  dynalite = await openDynaliteState(undefined);
});
afterAll(() => dynalite.close());

it('gives the slots of three takers asking at once one interval apart: 40 takes at 20 a second span 1.95 s, none closer than 50 ms', async () => {
  const budgets = [0, 1, 2].map(() => new DynamoWriteBudget({ client: dynalite.client, tableName: DYNALITE_TABLE_NAME, writesPerSecond: 20, name: 'spread' }));
  const asked = Date.now();

  const slots = (await Promise.all(Array.from({ length: 40 }, (_, i) => budgets[i % 3]!.slot()))).sort((a, b) => a - b);

  const gaps = slots.slice(1).map((s, i) => s - slots[i]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(50 - 1e-6);
  expect(slots.at(-1)! - slots[0]!).toBeCloseTo(39 * 50, 3);
  expect(slots[0]!).toBeGreaterThanOrEqual(asked);
});
