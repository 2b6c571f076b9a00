import { createResetHandler } from '../layers/workflow/handler.js';
import { createWindowsDomainAdapter } from '../layers/resources/windows-domain/adapter.js';

export const adapters = { 'windows-domain': createWindowsDomainAdapter };
export const handler = createResetHandler({ adapters });
