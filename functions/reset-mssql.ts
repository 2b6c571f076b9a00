import { createResetHandler } from '../layers/workflow/handler.js';
import { createMssqlAdapter } from '../layers/resources/mssql/adapter.js';

export const adapters = { mssql: createMssqlAdapter };
export const handler = createResetHandler({ adapters });
