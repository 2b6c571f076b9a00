import { createResetHandler } from '../layers/workflow/handler.js';
import { createWeblogicAdapter } from '../layers/resources/weblogic/adapter.js';

export const adapters = { weblogic: createWeblogicAdapter };
export const handler = createResetHandler({ adapters });
