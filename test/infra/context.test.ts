import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { propsFromContext } from '../../infra/context.js';

describe('the stack settings from CDK context', () => {
  it('reads lists from cdk.json arrays or "-c key=a,b" strings, and numbers', () => {
    const app = new App({
      context: { vpcId: 'vpc-0abc12345678def01', subnetIds: 'subnet-a, subnet-b', routeTableIds: ['rtb-a', 'rtb-b'], sites: ['dmz1'], maxConcurrency: '25', createEndpoints: 'false' },
    });
    expect(propsFromContext(app.node)).toEqual({
      vpc: { vpcId: 'vpc-0abc12345678def01', subnetIds: ['subnet-a', 'subnet-b'], routeTableIds: ['rtb-a', 'rtb-b'] },
      sites: ['dmz1'],
      maxConcurrency: 25,
      createEndpoints: false,
    });
  });

  it('is empty without context (a new isolated VPC, no sites), and refuses a VPC without subnets', () => {
    expect(propsFromContext(new App().node)).toEqual({});
    expect(() => propsFromContext(new App({ context: { vpcId: 'vpc-1' } }).node)).toThrow(/subnetIds/);
    expect(() => propsFromContext(new App({ context: { maxConcurrency: 'many' } }).node)).toThrow(/maxConcurrency/);
  });
});
