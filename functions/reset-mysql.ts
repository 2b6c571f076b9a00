import { createResetHandler } from '../layers/workflow/handler.js';
import { createMysqlAdapter } from '../layers/resources/mysql/adapter.js';

export const adapters = { mysql: createMysqlAdapter };
export const handler = createResetHandler({ adapters });
