import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RuntimeLayer } from '../../infra/bundling.js';
import { EncryptionKey } from '../../infra/encryption-key.js';
import { Network, type NetworkProps } from '../../infra/network.js';
import { targetPorts } from '../../infra/ports.js';
import { implementedTypes, ResetFunctions } from '../../infra/reset-functions.js';
import { StateTable } from '../../infra/state-table.js';
import type { ResourceType } from '../../layers/resources/common.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../../layers/resources/registry.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The reset functions in a stack of their own; `bundle: false` skips esbuild for stacks that only check wiring. */
function build(options: { bundle?: boolean; vpc?: NetworkProps['vpc'] } = {}) {
  const app = new App(options.bundle === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {});
  const stack = new Stack(app, 'functions');
  const key = new EncryptionKey(stack, 'Encryption').key;
  const table = new StateTable(stack, 'State', { encryptionKey: key }).table;
  const network = new Network(stack, 'Network', { encryptionKey: key, ...(options.vpc ? { vpc: options.vpc } : {}) });
  const functions = new ResetFunctions(stack, 'Reset', { key, table, network });
  return { stack, functions };
}

describe('the reset functions', () => {
  let template: Template;
  let built: ReturnType<typeof build>;
  const logicalId = (type: ResourceType) => built.stack.getLogicalId(built.functions.functionOf(type).node.defaultChild as CfnFunction);

  beforeAll(() => {
    built = build();
    template = Template.fromStack(built.stack);
  }, 120_000);

  it('are one per implemented type, Node.js 22 on ARM, traced, bundled as ESM', () => {
    expect([...built.functions.functions.keys()].sort()).toEqual(implementedTypes());
    expect(implementedTypes().length).toBeGreaterThan(0);
    for (const type of implementedTypes()) {
      const fn = template.toJSON().Resources[logicalId(type)] as Resource;
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
    }
  });

  it('are small bundles over the runtime layer, which keeps class names, so errors reach the state machine by their class name', () => {
    const outdir = (built.stack.node.root as App).outdir;
    const assetDir = (c: Construct) => join(outdir, (c.node.findChild('Code') as Asset).assetPath);
    const bundle = readFileSync(join(assetDir(built.functions.functionOf('linux')), 'index.mjs'), 'utf8');
    // The engine's errors are imported from the layer, not copied (a copy would break instanceof).
    expect(bundle.includes('from"/opt/rpr/engine/errors.mjs"')).toBe(true);
    expect(bundle.includes('"TargetTimeoutError"')).toBe(false);
    expect(bundle.length).toBeLessThan(1.5 * 1024 * 1024);
    const layer = assetDir(RuntimeLayer.of(built.stack).layer);
    const errors = readdirSync(join(layer, 'rpr', 'chunks')).map((f) => readFileSync(join(layer, 'rpr', 'chunks', f), 'utf8')).find((c) => c.includes('"TargetTimeoutError"'));
    expect(errors?.includes('"OutcomeUnknownError"')).toBe(true);
    const fn = template.toJSON().Resources[logicalId('linux')] as Resource;
    expect(fn.Properties.Layers).toHaveLength(1);
  });

  it('attach to the VPC exactly for the on-premises types, each with its own security group', () => {
    for (const type of implementedTypes()) {
      const fn = template.toJSON().Resources[logicalId(type)] as Resource;
      if (RESOURCE_TYPE_DEFINITIONS[type].onPremises) expect(fn.Properties.VpcConfig, type).toBeDefined();
      else expect(fn.Properties.VpcConfig, type).toBeUndefined();
    }
  });

  it('open outbound only the type\'s ports to private ranges, and 443 to the AWS endpoints; nothing inbound', () => {
    for (const [type, sg] of built.functions.securityGroups) {
      const props = template.toJSON().Resources[built.stack.getLogicalId(sg.node.defaultChild as never)].Properties as Record<string, unknown>;
      expect(props.SecurityGroupIngress).toBeUndefined();
      const inline = (props.SecurityGroupEgress ?? []) as { IpProtocol: string; FromPort: number; ToPort: number; CidrIp?: string }[];
      const separate = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress'))
        .map((r) => (r as Resource).Properties)
        .filter((p) => JSON.stringify(p.GroupId).includes(built.stack.getLogicalId(sg.node.defaultChild as never))) as unknown as typeof inline;
      const rules = [...inline, ...separate];
      expect(rules.every((r) => ['tcp', 'udp'].includes(r.IpProtocol) && r.FromPort === r.ToPort), type).toBe(true);
      const targetRules = rules.filter((r) => r.FromPort !== 443);
      const opened = (protocol: string) => [...new Set(targetRules.filter((r) => r.IpProtocol === protocol).map((r) => r.FromPort))].sort((a, b) => a - b);
      // What the type's descriptor says its configurations need, and nothing else.
      expect({ tcp: opened('tcp'), udp: opened('udp') }, type).toEqual(targetPorts(type));
      expect(targetRules.every((r) => r.CidrIp !== '0.0.0.0/0')).toBe(true);
    }
    expect(built.functions.securityGroups.get('postgresql') && targetPorts('postgresql')).toEqual({ tcp: [5432], udp: [] });
    expect(targetPorts('linux')).toEqual({ tcp: [22, 23], udp: [] });
    // A type not implemented yet has its UDP port ready for when it is: a named SQL Server instance.
    expect(targetPorts('mssql', [14330])).toEqual({ tcp: [1433, 14330], udp: [1434] });
  });

  it('may be invoked by Secrets Manager for this account only (the rotation hook)', () => {
    for (const type of implementedTypes()) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [logicalId(type), 'Arn'] },
        Principal: 'secretsmanager.amazonaws.com',
        Action: 'lambda:InvokeFunction',
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
    }
    const unconditioned = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => !(p as Resource).Properties.SourceAccount);
    expect(unconditioned).toEqual([]);
  });

  it('read the whole state table but write only the items a reset owns (leases, marks, host keys, runs, audit, the write budget)', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => (p as Resource).Properties as { Roles: unknown[]; PolicyDocument: { Statement: { Action: string | string[]; Condition?: Record<string, Record<string, unknown>> }[] } });
    for (const type of implementedTypes()) {
      const role = ((template.toJSON().Resources[logicalId(type)] as Resource).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = policies.filter((p) => JSON.stringify(p.Roles).includes(JSON.stringify({ Ref: role }))).flatMap((p) => p.PolicyDocument.Statement);
      const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
      const writes = dynamo.filter((s) => [s.Action].flat().some((a) => /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(a)));
      expect(writes.length, type).toBe(1);
      expect(writes[0]!.Condition, type).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LEASE#*', 'SETMARK#*', 'HOSTKEY#*', 'RUN#*', 'AUDIT#*', 'BUDGET#*'] } });
      expect(dynamo.some((s) => [s.Action].flat().includes('dynamodb:Query') && s.Condition === undefined), type).toBe(true);
      expect(dynamo.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*')), type).toEqual([]);
    }
  });

  it('read and write only secrets tagged rpr:managed, and never with a wildcard action', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => ((p as Resource).Properties.PolicyDocument as { Statement: { Action: string | string[]; Condition?: unknown }[] }).Statement,
    );
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements).toHaveLength(implementedTypes().length);
    for (const s of secretStatements) {
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/rpr:managed': 'true' } });
      expect([s.Action].flat()).not.toContain('secretsmanager:*');
    }
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('may send a rotation\'s out-of-sync event to the bus they are told of and the metric only in the rpr namespace, as the summary does', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => ((p as Resource).Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[] }).Statement,
    );
    const metrics = statements.filter((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
    expect(metrics).toHaveLength(implementedTypes().length);
    for (const s of metrics) expect(s).toMatchObject({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'rpr' } } });
    const events = statements.filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(events).toHaveLength(implementedTypes().length);
    for (const s of events) expect(JSON.stringify(s.Resource)).toContain(':event-bus/default');
    for (const type of implementedTypes()) {
      const fn = template.toJSON().Resources[logicalId(type)] as Resource;
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.RPR_EVENT_BUS).toBe('default');
    }
  });

  it('reach AWS through endpoints in an isolated VPC with no NAT or internet gateway', () => {
    for (const service of ['secretsmanager', 'states', 'sts', 'kms']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
      expect(
        Object.values(template.findResources('AWS::EC2::VPCEndpoint')).some((e) => JSON.stringify((e as Resource).Properties.ServiceName).includes(`.${service}"`)),
        service,
      ).toBe(true);
    }
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('log to log groups encrypted with the rotating customer-managed key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    expect(groups.length).toBeGreaterThanOrEqual(implementedTypes().length);
    for (const g of groups) expect(g.Properties.KmsKeyId).toBeDefined();
  });
});

describe('the reset functions in an existing VPC', () => {
  it('attach to the given subnets and create no VPC', () => {
    const { stack } = build({ bundle: false, vpc: { vpcId: 'vpc-0abc12345678def01', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], availabilityZones: ['eu-west-1a', 'eu-west-1b'], routeTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'] } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] } });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcId: 'vpc-0abc12345678def01', VpcEndpointType: 'Interface' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcId: 'vpc-0abc12345678def01', VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'] });
  });
});

describe('turning rotation on for a managed secret', () => {
  it('schedules the account type\'s function with the schedule and window given', () => {
    const { stack, functions } = build({ bundle: false });
    const secret = Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rpr/web1/ops-AbCdEf');
    functions.enableRotation(secret, 'postgresql', { scheduleExpression: 'rate(14 days)', window: '3h' });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: secret.secretArn,
      RotationLambdaARN: { 'Fn::GetAtt': [stack.getLogicalId(functions.functionOf('postgresql').node.defaultChild as CfnFunction), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(14 days)', Duration: '3h' },
    });
  });
});

describe('a cloud type whose admin is a role to assume (aws-iam)', () => {
  /** Every statement of the policies attached to a function's role. */
  function statementsOf(stack: Stack, fn: Construct): { Action: string | string[]; Resource: unknown }[] {
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
    const role = ((template.Resources[stack.getLogicalId(fn.node.defaultChild as CfnFunction)]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
    return Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
  }

  it('runs outside the VPC, may only sts:AssumeRole on roles under /rpr/ by default, and holds no iam: action; no other function may assume roles', () => {
    const { stack, functions } = build({ bundle: false });
    const fn = functions.functionOf('aws-iam');
    expect((fn.node.defaultChild as CfnFunction).vpcConfig).toBeUndefined();
    expect(functions.securityGroups.has('aws-iam')).toBe(false);

    const statements = statementsOf(stack, fn);
    const assume = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sts:')));
    expect(assume).toHaveLength(1);
    expect(assume[0]!.Action).toBe('sts:AssumeRole');
    expect(JSON.stringify(assume[0]!.Resource)).toContain(':iam::*:role/rpr/*');
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('iam:'))).toEqual([]);
    for (const type of implementedTypes().filter((t) => t !== 'aws-iam')) {
      expect(statementsOf(stack, functions.functionOf(type)).flatMap((s) => [s.Action].flat()), type).not.toContain('sts:AssumeRole');
    }
  });

  it('assumes exactly the admin roles it is given', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'roles');
    const key = new EncryptionKey(stack, 'Encryption').key;
    const table = new StateTable(stack, 'State', { encryptionKey: key }).table;
    const network = new Network(stack, 'Network', { encryptionKey: key });
    const arns = ['arn:aws:iam::111122223333:role/ops/rpr-password-admin'];
    const functions = new ResetFunctions(stack, 'Reset', { key, table, network, adminRoleArns: arns });
    const assume = statementsOf(stack, functions.functionOf('aws-iam')).filter((s) => s.Action === 'sts:AssumeRole');
    expect(assume.map((s) => s.Resource)).toEqual(arns);
  });
});
