import { createResetHandler } from '../layers/workflow/handler.js';
import { createGoogleWorkspaceAdapter } from '../layers/resources/google-workspace/adapter.js';

export const adapters = { 'google-workspace': createGoogleWorkspaceAdapter };
export const handler = createResetHandler({ adapters });
