import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import validateAsl from 'asl-validator';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { CUT_OFF_ERRORS, LAMBDA_SERVICE_ERRORS, RETRYABLE_ENGINE_ERRORS } from '../../infra/reset-workflow.js';
import { implementedTypes } from '../../infra/reset-functions.js';
import { RprStack } from '../../infra/rpr-stack.js';
import { allStates, fieldNamesAndPaths, resolveDefinition, type Resources } from '../../harness/support/template-tools.js';

const SITES = ['dmz1', 'plant-b'];

describe('the deployment', () => {
  let stack: RprStack;
  let template: Template;
  let resources: Resources;
  let definition: Record<string, unknown>;

  beforeAll(() => {
    const app = new App();
    stack = new RprStack(app, 'rpr-test', { sites: SITES });
    Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    definition = resolveDefinition((machine as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString, resources);
  }, 180_000);

  describe('cdk-nag AwsSolutions', () => {
    it('has no unacknowledged finding', () => {
      const findings = [
        ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
        ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ].map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`);
      expect(findings).toEqual([]);
    });

    it('gives every acknowledgement its finding and a reason', () => {
      const acknowledgements = Object.values(template.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }>)
        .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
      expect(acknowledgements.length).toBeGreaterThan(0);
      for (const a of acknowledgements) {
        expect(a.id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
        expect(a.reason.length, a.id).toBeGreaterThan(40);
      }
    });
  });

  describe('the workflow', () => {
    it('is a Standard state machine, encrypted with the key, traced, logging ALL without execution data', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
        EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: Match.anyValue() },
      });
    });

    it('passes asl-validator', () => {
      const result = validateAsl(definition);
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    });

    it('plans, runs the groups in a Distributed Map reading them from and writing results to the results bucket, and summarizes', () => {
      expect(definition.StartAt).toBe('Plan');
      const map = allStates(definition).find((s) => s.state.Type === 'Map')!.state;
      // The groups are not in the state (256 KB would bound a run): the plan step writes them to S3 and the Map reads them.
      expect(map.ItemsPath).toBeUndefined();
      const reader = map.ItemReader as { Parameters: { Bucket: unknown } };
      expect(reader).toMatchObject({ Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Key.$': '$.items.key' } });
      expect(reader.Parameters.Bucket).toEqual((map.ResultWriter as { Parameters: { Bucket: unknown } }).Parameters.Bucket);
      const planEnv = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => (f.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables ?? {}).find((v) => 'RPR_RESULTS_BUCKET' in v);
      expect(planEnv?.RPR_RESULTS_BUCKET).toEqual({ Ref: stack.getLogicalId(stack.results.bucket.node.defaultChild as never) });
      expect(map).toMatchObject({
        MaxConcurrency: 10,
        ToleratedFailurePercentage: 10,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Prefix: 'runs' } },
        Next: 'Summarize',
      });
      expect((map.Catch as { Next: string }[]).map((c) => c.Next)).toEqual(['Summarize']);
    });

    it('sends cloud groups to their type\'s function and agent-site groups to the site\'s activity with a heartbeat', () => {
      const states = allStates(definition);
      const invoked = states.filter((s) => s.state.Resource === 'arn:aws:states:::lambda:invoke').map((s) => s.name);
      expect(invoked.sort()).toEqual(['Plan', 'Summarize', ...implementedTypes().map((t) => `Reset ${t}`)].sort());
      const activities = states.filter((s) => String(s.state.Resource).includes(':activity:'));
      expect(activities).toHaveLength(SITES.length);
      for (const a of activities) expect(a.state.HeartbeatSeconds).toBe(300);
    });

    it('retries with full jitter only Lambda service errors, a function cut off at its timeout and TargetTimeoutError/ThrottledError, never OutcomeUnknownError or States.ALL', () => {
      const allowed = new Set<string>([...LAMBDA_SERVICE_ERRORS, ...RETRYABLE_ENGINE_ERRORS, ...CUT_OFF_ERRORS]);
      const retriers = allStates(definition).flatMap((s) => (s.state.Retry as { ErrorEquals: string[]; JitterStrategy?: string }[] | undefined) ?? []);
      expect(retriers.length).toBeGreaterThan(implementedTypes().length);
      for (const r of retriers) {
        expect(r.JitterStrategy).toBe('FULL');
        expect(r.ErrorEquals).not.toContain('OutcomeUnknownError');
        expect(r.ErrorEquals).not.toContain('States.ALL');
        expect(r.ErrorEquals.filter((e) => !allowed.has(e))).toEqual([]);
      }
    });

    it('gives each Lambda task a timeout a minute longer than its function\'s, so Lambda, not the task, ends a long invocation', () => {
      const tasks = allStates(definition).filter((s) => s.name.startsWith('Reset ') && s.state.Type === 'Task');
      expect(tasks).toHaveLength(implementedTypes().length);
      for (const t of tasks) expect(t.state.TimeoutSeconds, t.name).toBe(15 * 60 + 60);
      const byName = new Map(allStates(definition).map((s) => [s.name, s.state]));
      expect([byName.get('Plan')?.TimeoutSeconds, byName.get('Summarize')?.TimeoutSeconds]).toEqual([5 * 60 + 60, 5 * 60 + 60]);
      const timeouts = Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties as { Timeout?: number; Environment?: { Variables?: Record<string, unknown> } })
        .filter((p) => p.Environment?.Variables?.RPR_SECRETS_WRITE_RATE !== undefined)
        .map((p) => p.Timeout);
      expect(timeouts).toEqual(implementedTypes().map(() => 15 * 60));
    });

    it('runs again what a task hands back as `next` (a group too large for one invocation), by function or by agent', () => {
      const states = new Map(allStates(definition).map((s) => [s.name, s.state]));
      const more = states.get('More accounts?')!;
      expect(more).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.next', IsPresent: true, Next: 'Carry on' }], Default: 'Group done' });
      expect(states.get('Carry on')).toMatchObject({ Type: 'Pass', OutputPath: '$.next', Next: 'Which site' });
      const tasks = [...states].filter(([name, state]) => state.Type === 'Task' && (name.startsWith('Reset ') || name.startsWith('Agent ')));
      expect(tasks.length).toBe(implementedTypes().length + SITES.length);
      for (const [name, state] of tasks) expect(state.Next, name).toBe('More accounts?');
    });

    it('gives every reset function the deployment\'s Secrets Manager write rate (default 45 a second of the 50 allowed)', () => {
      const rates = Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f) => (f.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables ?? {})
        .filter((v) => 'RPR_SECRETS_WRITE_RATE' in v)
        .map((v) => v.RPR_SECRETS_WRITE_RATE);
      expect(rates).toEqual(implementedTypes().map(() => '45'));
      const custom = Template.fromStack(new RprStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'rpr-rate', { secretsWriteRate: 20, functionTimeout: Duration.minutes(5) }));
      const fns = Object.values(custom.findResources('AWS::Lambda::Function')).map((f) => f.Properties as { Timeout?: number; Environment?: { Variables?: Record<string, unknown> } });
      expect(fns.filter((p) => p.Environment?.Variables?.RPR_SECRETS_WRITE_RATE === '20').map((p) => p.Timeout)).toEqual(implementedTypes().map(() => 300));
      expect(() => new RprStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'rpr-bad', { secretsWriteRate: 0 })).toThrow(/secretsWriteRate/);
    });

    it('has no password-bearing field or path in any state', () => {
      const fields = allStates(definition).flatMap((s) => [s.name, ...fieldNamesAndPaths(s.state)]);
      expect(fields.length).toBeGreaterThan(50);
      expect(fields.filter((f) => /passw(or)?d|secret(?!s?manager)/i.test(f))).toEqual([]);
    });
  });

  describe('the results bucket', () => {
    it('is KMS-encrypted, private, versioned, TLS-only and access-logged', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue() },
      });
      for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
        expect((bucket as { Properties: Record<string, unknown> }).Properties.BucketEncryption).toBeDefined();
      }
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });
  });

  describe('agent sites', () => {
    it('have an encrypted activity and a role each, allowed only their own activity and secrets', () => {
      template.resourceCountIs('AWS::StepFunctions::Activity', SITES.length);
      template.hasResourceProperties('AWS::StepFunctions::Activity', { EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY' } });
      for (const site of SITES) {
        const role = stack.sites.roles.get(site)!;
        const roleId = stack.getLogicalId(role.node.defaultChild as never);
        const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes(`"${roleId}"`));
        const statements = policies.flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument.Statement);
        const wildcard = statements.filter((s) => s.Resource === '*');
        expect(wildcard.map((s) => s.Action)).toEqual([['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']]);
        const poll = statements.find((s) => s.Action === 'states:GetActivityTask')!;
        expect(poll.Resource).toEqual({ Ref: stack.getLogicalId(stack.sites.activities.get(site)!.node.defaultChild as never) });
        const secrets = statements.find((s) => JSON.stringify(s.Action).includes('secretsmanager:'))!;
        expect(secrets.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/rpr:managed': 'true', 'aws:ResourceTag/rpr:site': site } });
        expect(statements.some((s) => JSON.stringify(s.Action).includes('lambda:') || JSON.stringify(s.Action).includes('states:StartExecution'))).toBe(false);
      }
    });
  });

  describe('the API', () => {
    it('requires IAM authorization on every method and validates the reset request body', () => {
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as { Properties: Record<string, unknown> }[];
      expect(methods.length).toBe(2);
      for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestValidatorId: Match.anyValue(), RequestModels: { 'application/json': Match.anyValue() } });
      template.hasResourceProperties('AWS::ApiGateway::Model', {
        Schema: Match.objectLike({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', additionalProperties: false, required: ['selector'] }),
      });
    });

    it('logs access to a KMS-encrypted log group and throttles the stage', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: { DestinationArn: Match.anyValue() },
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, DataTraceEnabled: false })]),
      });
      for (const g of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
        expect((g as { Properties: Record<string, unknown> }).Properties.KmsKeyId).toBeDefined();
      }
    });
  });

  describe('schedules, alarms and outputs', () => {
    it('has a schedule group and a role Scheduler assumes to start the workflow', () => {
      template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })] },
      });
    });

    it('alarms on failed, throttled and aborted runs and on out-of-sync accounts', () => {
      for (const metric of ['ExecutionsFailed', 'ExecutionThrottled', 'ExecutionsAborted']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: metric });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'rpr', MetricName: 'OutOfSyncAccounts', Threshold: 1 });
    });

    it("alarms on every reset function's errors and throttles", () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: { Namespace: string; MetricName: string; Threshold: number } }).Properties);
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric && a.Threshold === 1)).toHaveLength(implementedTypes().length);
      }
    });

    it('outputs the API URL, state machine, table, each reset function, and each site\'s activity and agent role', () => {
      const outputs = Object.keys(template.toJSON().Outputs as object);
      for (const name of ['ApiUrl', 'StateMachineArn', 'StateTableName', 'ResetFunctionLinuxArn', 'ResetFunctionHpUxArn', 'ResetFunctionPostgresqlArn', 'ResetFunctionMysqlArn', 'SiteDmz1ActivityArn', 'SiteDmz1AgentRoleArn', 'SitePlantBActivityArn', 'SitePlantBAgentRoleArn']) {
        expect(outputs.some((o) => o.startsWith(name)), name).toBe(true);
      }
    });
  });

  describe('cfn-lint', () => {
    // .ci/run installs it into this venv; a developer's own cfn-lint on PATH serves as well.
    const venv = '/opt/rpr-cfn-lint/bin/cfn-lint';
    const cfnLint = existsSync(venv) ? venv : spawnSync('cfn-lint', ['--version']).status === 0 ? 'cfn-lint' : undefined;
    if (!cfnLint) {
      if (process.env.CI === 'true') throw new Error('cfn-lint is missing under CI (.ci/run installs it)');
      console.log('skipping cfn-lint: not installed (pip install cfn-lint, or run .ci/run)');
    }
    it.skipIf(!cfnLint)('finds no error in the synthesized template', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'rpr-cfn-')), 'template.json');
      writeFileSync(file, JSON.stringify(template.toJSON()));
      // Errors only: warnings and informational findings are CloudFormation style advice.
      const result = spawnSync(cfnLint!, ['--format', 'parseable', '--non-zero-exit-code', 'error', '--', file], { encoding: 'utf8' });
      const errors = (result.stdout + result.stderr).split('\n').filter((line) => /:E\d{4}:/.test(line) || /Error|Traceback/.test(line));
      expect(errors).toEqual([]);
      expect(result.status).toBe(0);
    }, 120_000);
  });
});

