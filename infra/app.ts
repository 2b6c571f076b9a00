import { App } from 'aws-cdk-lib';
import { RprStack } from './rpr-stack.js';

const app = new App();
new RprStack(app, 'rpr', {
  ...(process.env.CDK_DEFAULT_ACCOUNT ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } } : {}),
});
