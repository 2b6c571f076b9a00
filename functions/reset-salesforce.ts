import { createResetHandler } from '../layers/workflow/handler.js';
import { createSalesforceAdapter } from '../layers/resources/salesforce/adapter.js';

export const adapters = { salesforce: createSalesforceAdapter };
export const handler = createResetHandler({ adapters });
