import { SecretsManagerStore } from '../../../layers/engine/stores/secrets-manager.js';
import { credentialStoreContract } from '../../contracts/credential-store.js';
import { describeServer } from '../../../harness/servers/index.js';
import { motoSecretsManager } from './clients.js';

describeServer('moto', 'SecretsManagerStore on moto', ({ endpoint }) => {
  credentialStoreContract('SecretsManagerStore on moto', async () => {
    const client = motoSecretsManager(endpoint);
    return { store: new SecretsManagerStore({ client, forceDelete: true }), close: async () => client.destroy(), overwritesConcurrentPuts: true };
  });
});
