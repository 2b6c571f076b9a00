import { createResetHandler } from '../layers/workflow/handler.js';
import { createOracleAdapter } from '../layers/resources/oracle/adapter.js';

export const adapters = { oracle: createOracleAdapter };
export const handler = createResetHandler({ adapters });
