import { createResetHandler } from '../layers/workflow/handler.js';
import { createEntraIdAdapter } from '../layers/resources/entra-id/adapter.js';

export const adapters = { 'entra-id': createEntraIdAdapter };
export const handler = createResetHandler({ adapters });
