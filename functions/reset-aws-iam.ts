import { createResetHandler } from '../layers/workflow/handler.js';
import { createAwsIamAdapter } from '../layers/resources/aws-iam/adapter.js';

export const adapters = { 'aws-iam': createAwsIamAdapter };
export const handler = createResetHandler({ adapters });
