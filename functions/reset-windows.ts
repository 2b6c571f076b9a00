import { createResetHandler } from '../layers/workflow/handler.js';
import { createWindowsAdapter } from '../layers/resources/windows/adapter.js';

export const adapters = { windows: createWindowsAdapter };
export const handler = createResetHandler({ adapters });
