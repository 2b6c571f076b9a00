import { createResetHandler } from '../layers/workflow/handler.js';
import { createPostgresqlAdapter } from '../layers/resources/postgresql/adapter.js';

export const adapters = { postgresql: createPostgresqlAdapter };
export const handler = createResetHandler({ adapters });
