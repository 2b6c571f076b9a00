import { openMemoryStores } from '../../../../layers/engine/stores/embedded.js';
import { stateStoreContract } from '../../../contracts/state-store.js';

stateStoreContract('DynamoStateStore on dynalite (in memory)', async ({ clock, pageSize }) => {
  const stores = await openMemoryStores({ clock, pageSize });
  return { store: stores.state, close: () => stores.close() };
});
