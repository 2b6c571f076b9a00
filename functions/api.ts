import { createApiHandler } from '../layers/workflow/api.js';

/** POST /resets and GET /resets/{id}, behind API Gateway (REST, IAM authorization, proxy integration). */
export const handler = createApiHandler();
