import { createResetHandler } from '../layers/workflow/handler.js';
import { createRackspaceAdapter } from '../layers/resources/rackspace/adapter.js';

export const adapters = { rackspace: createRackspaceAdapter };
export const handler = createResetHandler({ adapters });
