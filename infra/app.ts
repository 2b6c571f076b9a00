import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './context.js';
import { RprStack } from './rpr-stack.js';

const app = new App();
new RprStack(app, 'rpr', {
  ...propsFromContext(app.node),
  ...(process.env.CDK_DEFAULT_ACCOUNT ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } } : {}),
});
// Every AwsSolutions finding is either fixed or acknowledged with its reason (infra/nag.ts).
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
