import { openDynaliteState } from '../../../../layers/engine/stores/dynalite-state.js';
import { stateStoreContract } from '../../../contracts/state-store.js';

stateStoreContract('DynamoStateStore on dynalite (in memory)', async ({ clock, pageSize }) => {
  const dynalite = await openDynaliteState(undefined, { clock, pageSize });
  return { store: dynalite.store, close: () => dynalite.close() };
});
