import { createResetHandler } from '../layers/workflow/handler.js';
import { createSybaseAseAdapter } from '../layers/resources/sybase-ase/adapter.js';

export const adapters = { 'sybase-ase': createSybaseAseAdapter };
export const handler = createResetHandler({ adapters });
