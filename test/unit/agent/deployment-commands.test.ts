import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../cli/aws.js';
import { EXIT, runCli } from '../../../cli/program.js';
import { resetRequestSchema } from '../../../layers/workflow/events.js';

/** A client whose send records each command's name and input and answers from `responses`. */
function fakeClients(responses: Record<string, (input: Record<string, unknown>) => unknown>, outputs: Record<string, string> = {}) {
  const calls: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ command: name, input: command.input });
      const answer = responses[name];
      if (!answer) throw new Error(`unexpected ${name}`);
      return answer(command.input);
    },
    destroy: () => undefined,
  };
  const make = () => client as never;
  const aws: AwsClients = { sfn: make, activitySfn: make, scheduler: make, secretsManager: make, sts: make, lambda: make, dynamodb: make, stackOutputs: async () => outputs };
  return { aws, calls };
}

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:rpr-resets';
const ROLE = 'arn:aws:iam::123456789012:role/rpr-scheduler';
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:rpr-reset-unix';

async function rpr(args: string[], aws: AwsClients, stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin }, aws);
  return { code, stdout, stderr };
}

describe('rpr schedule', () => {
  const env = { sm: process.env.RPR_STATE_MACHINE_ARN, role: process.env.RPR_SCHEDULER_ROLE_ARN };
  beforeEach(() => {
    delete process.env.RPR_STATE_MACHINE_ARN;
    delete process.env.RPR_SCHEDULER_ROLE_ARN;
  });
  afterEach(() => {
    if (env.sm !== undefined) process.env.RPR_STATE_MACHINE_ARN = env.sm;
    if (env.role !== undefined) process.env.RPR_SCHEDULER_ROLE_ARN = env.role;
  });

  it('add: creates a schedule with rate(30 days), a flexible window and the selector as a valid reset request', async () => {
    const { aws, calls } = fakeClients({ CreateSchedule: () => ({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/rpr/x' }) });

    const r = await rpr(['schedule', 'add', '--every', '30d', '--type', 'cisco-ios', '--site', 'dmz1', '--window', '1h', '--state-machine-arn', SM, '--scheduler-role-arn', ROLE], aws);

    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.input as { Target: { Input: string } } & Record<string, unknown>;
    expect(input).toMatchObject({
      Name: 'every-30d-cisco-ios-dmz1',
      GroupName: 'rpr',
      ScheduleExpression: 'rate(30 days)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 },
      Target: { Arn: SM, RoleArn: ROLE },
      State: 'ENABLED',
    });
    expect(resetRequestSchema.parse(JSON.parse(input.Target.Input))).toEqual({ selector: { types: ['cisco-ios'], sites: ['dmz1'] }, requestedBy: 'schedule/rpr/every-30d-cisco-ios-dmz1' });
  });

  it('add --mode verify: the schedule starts a verify run (mode "verify" in its request), named apart from a reset schedule of the same selector; a bad mode is refused', async () => {
    const { aws, calls } = fakeClients({ CreateSchedule: () => ({}) });

    const r = await rpr(['schedule', 'add', '--mode', 'verify', '--every', '1d', '--tag', 'pci', '--state-machine-arn', SM, '--scheduler-role-arn', ROLE], aws);

    expect(r.code, r.stderr).toBe(EXIT.ok);
    const input = calls[0]!.input as { Name: string; Target: { Input: string } };
    expect(input.Name).toBe('verify-every-1d-pci');
    expect(resetRequestSchema.parse(JSON.parse(input.Target.Input))).toEqual({ selector: { tags: ['pci'] }, mode: 'verify', requestedBy: 'schedule/rpr/verify-every-1d-pci' });
    const bad = await rpr(['schedule', 'add', '--mode', 'rotate', '--every', '1d', '--tag', 'pci', '--state-machine-arn', SM, '--scheduler-role-arn', ROLE], aws);
    expect(bad.code).toBe(EXIT.badInput);
    expect(bad.stderr).toMatch(/--mode/);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['12h', 'rate(12 hours)'],
    ['1d', 'rate(1 day)'],
    ['15m', 'rate(15 minutes)'],
  ])('add: --every %s becomes %s; without --window the window is OFF; ARNs may come from the environment', async (every, expression) => {
    process.env.RPR_STATE_MACHINE_ARN = SM;
    process.env.RPR_SCHEDULER_ROLE_ARN = ROLE;
    const { aws, calls } = fakeClients({ CreateSchedule: () => ({}) });

    const r = await rpr(['schedule', 'add', '--every', every, '--tag', 'pci', '--name', 'pci', '--group', 'ops'], aws);

    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(calls[0]!.input).toMatchObject({ Name: 'pci', GroupName: 'ops', ScheduleExpression: expression, FlexibleTimeWindow: { Mode: 'OFF' } });
  });

  it('add: the ARNs may come from the stack outputs', async () => {
    const { aws, calls } = fakeClients({ CreateSchedule: () => ({}) }, { ResetStateMachineArn: SM, SchedulerRoleArn: ROLE });
    const r = await rpr(['schedule', 'add', '--every', '7d', '--type', 'linux', '--stack', 'Rpr'], aws);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(calls[0]!.input).toMatchObject({ Target: { Arn: SM, RoleArn: ROLE } });
  });

  it.each([
    [['--every', '30x', '--type', 'linux'], '--every'],
    [['--every', '0d', '--type', 'linux'], '--every'],
    [['--every', '30', '--type', 'linux'], '--every'],
    [['--every', '30d', '--type', 'linux', '--window', '2d'], '--window'],
    [['--every', '30d', '--type', 'linux', '--window', '25h'], '--window'],
    [['--every', '30d'], 'selector'],
    [['--every', '30d', '--type', 'vax'], '--type'],
    [['--every', '30d', '--site', 'DMZ 1'], '--site'],
    [['--every', '30d', '--type', 'linux', '--name', 'bad name!'], '--name'],
    [['--every', '30d', '--type', 'linux', '--state-machine-arn', 'arn:aws:iam::123456789012:role/x', '--scheduler-role-arn', ROLE], '--state-machine-arn'],
    [['--every', '30d', '--type', 'linux', '--state-machine-arn', SM], '--scheduler-role-arn'],
  ])('add: bad input %j exits 2 naming %s, and nothing is called', async (args, option) => {
    const { aws, calls } = fakeClients({});
    const r = await rpr(['schedule', 'add', ...(args.includes('--state-machine-arn') ? [] : ['--state-machine-arn', SM]), ...args], aws);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain(option);
    expect(calls).toEqual([]);
  });

  it('list: pages through the group and shows each schedule with its selector and mode', async () => {
    const { aws, calls } = fakeClients({
      ListSchedules: (i) => (i.NextToken ? { Schedules: [{ Name: 'b' }] } : { Schedules: [{ Name: 'a' }], NextToken: 't1' }),
      GetSchedule: (i) => ({ Name: i.Name, State: 'ENABLED', ScheduleExpression: 'rate(30 days)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 }, Target: { Arn: SM, Input: JSON.stringify({ selector: { types: ['linux'] }, ...(i.Name === 'b' ? { mode: 'verify' } : {}) }) } }),
    });

    const r = await rpr(['--json', 'schedule', 'list'], aws);

    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'a', state: 'ENABLED', mode: 'reset', every: 'rate(30 days)', window: '60m', selector: { types: ['linux'] }, target: SM },
      { name: 'b', state: 'ENABLED', mode: 'verify', every: 'rate(30 days)', window: '60m', selector: { types: ['linux'] }, target: SM },
    ]);
    expect(calls.filter((c) => c.command === 'ListSchedules').map((c) => c.input)).toEqual([{ GroupName: 'rpr' }, { GroupName: 'rpr', NextToken: 't1' }]);
  });

  it('remove: deletes the schedule from its group; a missing one is bad input', async () => {
    const ok = fakeClients({ DeleteSchedule: () => ({}) });
    expect((await rpr(['schedule', 'remove', 'pci', '--group', 'ops'], ok.aws)).code).toBe(EXIT.ok);
    expect(ok.calls).toEqual([{ command: 'DeleteSchedule', input: { Name: 'pci', GroupName: 'ops' } }]);

    const missing = fakeClients({
      DeleteSchedule: () => {
        throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      },
    });
    const r = await rpr(['schedule', 'remove', 'nope'], missing.aws);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain('no schedule "nope"');
  });
});

describe('rpr run', () => {
  const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:rpr-resets:nightly-1';

  it('start: StartExecution with the reset request as input and the idempotency key as the execution name', async () => {
    const { aws, calls } = fakeClients({ StartExecution: () => ({ executionArn: EXEC, startDate: new Date(0) }) });

    const r = await rpr(['run', 'start', '--type', 'postgresql', '--tag', 'pci', '--idempotency-key', 'nightly-1', '--state-machine-arn', SM], aws);

    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.stdout).toContain(EXEC);
    expect(calls).toEqual([{ command: 'StartExecution', input: { stateMachineArn: SM, name: 'nightly-1', input: JSON.stringify({ selector: { types: ['postgresql'], tags: ['pci'] }, idempotencyKey: 'nightly-1' }) } }]);
  });

  it('start --mode verify: the execution\'s request asks for a verify run', async () => {
    const { aws, calls } = fakeClients({ StartExecution: () => ({ executionArn: EXEC, startDate: new Date(0) }) });
    const r = await rpr(['run', 'start', '--mode', 'verify', '--tag', 'pci', '--state-machine-arn', SM], aws);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(JSON.parse((calls[0]!.input as { input: string }).input)).toEqual({ selector: { tags: ['pci'] }, mode: 'verify' });
  });

  it.each([
    [['--type', 'linux', '--idempotency-key', 'has space'], '--idempotency-key'],
    [[], 'selector'],
    [['--account', 'no-slash'], '--account'],
  ])('start: bad input %j exits 2 naming %s, and nothing is called', async (args, option) => {
    const { aws, calls } = fakeClients({});
    const r = await rpr(['run', 'start', ...args, '--state-machine-arn', SM], aws);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain(option);
    expect(calls).toEqual([]);
  });

  it.each([
    ['SUCCEEDED', EXIT.ok],
    ['FAILED', EXIT.failed],
    ['ABORTED', EXIT.failed],
    ['TIMED_OUT', EXIT.failed],
  ])('watch: polls DescribeExecution until it ends; %s exits %i', async (status, code) => {
    let n = 0;
    const { aws, calls } = fakeClients({ DescribeExecution: () => (++n < 3 ? { status: 'RUNNING' } : { status, output: JSON.stringify({ runId: 'run-1' }) }) });

    const r = await rpr(['run', 'watch', EXEC, '--interval', '0.01'], aws);

    expect(r.code).toBe(code);
    expect(calls.map((c) => c.command)).toEqual(['DescribeExecution', 'DescribeExecution', 'DescribeExecution']);
    expect(r.stdout.match(/RUNNING/g)).toHaveLength(1);
    expect(r.stdout).toContain(status);
  });

  it('watch: a malformed execution ARN is bad input', async () => {
    const { aws, calls } = fakeClients({});
    expect((await rpr(['run', 'watch', 'not-an-arn'], aws)).code).toBe(EXIT.badInput);
    expect(calls).toEqual([]);
  });
});

describe('rpr rotation enable', () => {
  it('days without a window: AutomaticallyAfterDays, the function as the rotation Lambda, no immediate rotation', async () => {
    const { aws, calls } = fakeClients({ RotateSecret: () => ({ ARN: 'arn:secret' }) });
    const r = await rpr(['rotation', 'enable', '--secret-id', 'rpr/web1/app', '--function-arn', FN, '--every', '30d'], aws);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(calls).toEqual([{ command: 'RotateSecret', input: { SecretId: 'rpr/web1/app', RotationLambdaARN: FN, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false } }]);
  });

  it('with a window: a schedule expression and a duration', async () => {
    const { aws, calls } = fakeClients({ RotateSecret: () => ({}) });
    const r = await rpr(['rotation', 'enable', '--secret-id', 'rpr/web1/app', '--function-arn', FN, '--every', '30d', '--window', '2h', '--now'], aws);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(calls[0]!.input).toMatchObject({ RotationRules: { ScheduleExpression: 'rate(30 days)', Duration: '2h' }, RotateImmediately: true });
  });

  it('--account: the secret id is read from the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-rot-'));
    const env = { RPR_VAULT_KEY: process.env.RPR_VAULT_KEY };
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 7).toString('base64');
    try {
      const none = fakeClients({});
      expect((await rpr(['--data-dir', dir, 'resource', 'add', '--type', 'postgresql', '--id', 'web1', '--host', '10.0.0.5'], none.aws)).code).toBe(EXIT.ok);
      expect((await rpr(['--data-dir', dir, 'account', 'add', '--resource', 'web1', '--username', 'app', '--password-stdin'], none.aws, 'App-start-pw-1\n')).code).toBe(EXIT.ok);
      const { aws, calls } = fakeClients({ RotateSecret: () => ({}) });
      const r = await rpr(['--data-dir', dir, 'rotation', 'enable', '--account', 'web1/app', '--function-arn', FN, '--every', '12h'], aws);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(calls[0]!.input).toMatchObject({ SecretId: 'rpr/web1/app', RotationRules: { ScheduleExpression: 'rate(12 hours)' } });
      const missing = await rpr(['--data-dir', dir, 'rotation', 'enable', '--account', 'web1/nobody', '--function-arn', FN, '--every', '30d'], aws);
      expect(missing.code).toBe(EXIT.badInput);
    } finally {
      if (env.RPR_VAULT_KEY === undefined) delete process.env.RPR_VAULT_KEY;
      else process.env.RPR_VAULT_KEY = env.RPR_VAULT_KEY;
    }
  });

  it.each([
    [['--secret-id', 's', '--function-arn', FN, '--every', '30m'], '--every'],
    [['--secret-id', 's', '--function-arn', FN, '--every', '2h'], '--every'],
    [['--secret-id', 's', '--function-arn', FN, '--every', '30d', '--window', '30m'], '--window'],
    [['--secret-id', 's', '--function-arn', 'arn:aws:iam::123456789012:role/x', '--every', '30d'], '--function-arn'],
    [['--function-arn', FN, '--every', '30d'], '--account'],
  ])('bad input %j exits 2 naming %s, and nothing is called', async (args, option) => {
    const { aws, calls } = fakeClients({});
    const r = await rpr(['rotation', 'enable', ...args], aws);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain(option);
    expect(calls).toEqual([]);
  });
});

describe('rpr deploy-check', () => {
  const outputs = {
    StateTableName: 'rpr-state',
    ResetStateMachineArn: SM,
    ApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
    ActivityArnDmz1: 'arn:aws:states:eu-west-1:123456789012:activity:rpr-dmz1',
    ResetFunctionUnix: FN,
    ResetFunctionPostgresql: 'arn:aws:lambda:eu-west-1:123456789012:function:rpr-reset-postgresql',
  };
  const healthy = {
    DescribeStateMachine: () => ({ name: 'rpr-resets', status: 'ACTIVE', loggingConfiguration: { level: 'ALL', includeExecutionData: false }, tracingConfiguration: { enabled: true } }),
    DescribeTable: () => ({ Table: { TableStatus: 'ACTIVE' } }),
    DescribeContinuousBackups: () => ({ ContinuousBackupsDescription: { PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED' } } }),
    DescribeActivity: () => ({}),
    GetPolicy: () => ({ Policy: JSON.stringify({ Statement: [{ Principal: { Service: 'secretsmanager.amazonaws.com' }, Action: 'lambda:InvokeFunction', Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } } }] }) }),
  };

  it('a complete stack passes every check', async () => {
    const { aws } = fakeClients(healthy, outputs);
    const r = await rpr(['--json', 'deploy-check', '--stack', 'Rpr'], aws);
    expect(r.code, r.stdout).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ missing: 0 });
  });

  it('says what is missing: execution data in logs, PITR off, a function Secrets Manager may not invoke, no API output', async () => {
    const { aws } = fakeClients(
      {
        ...healthy,
        DescribeStateMachine: () => ({ status: 'ACTIVE', loggingConfiguration: { level: 'ALL', includeExecutionData: true }, tracingConfiguration: { enabled: true } }),
        DescribeContinuousBackups: () => ({ ContinuousBackupsDescription: { PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } } }),
        GetPolicy: (i) => {
          if (i.FunctionName === FN) throw Object.assign(new Error('no policy'), { name: 'ResourceNotFoundException' });
          return healthy.GetPolicy();
        },
      },
      { ...outputs, ApiUrl: '' },
    );

    const r = await rpr(['--json', 'deploy-check', '--stack', 'Rpr'], aws);

    expect(r.code).toBe(EXIT.partial);
    const missing = (JSON.parse(r.stdout) as { findings: { what: string; ok: boolean; detail: string }[] }).findings.filter((f) => !f.ok);
    expect(missing.map((f) => f.what)).toEqual(['state machine (ResetStateMachineArn)', 'state table (StateTableName)', 'API endpoint', 'rotation permission (ResetFunctionUnix)']);
    expect(missing[0]!.detail).toContain('execution data');
    expect(missing[1]!.detail).toContain('point-in-time recovery off');
    expect(missing[3]!.detail).toContain('Secrets Manager may not invoke it');
  });

  it('reads the outputs cdk deploy --outputs-file wrote', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rpr-out-')), 'outputs.json');
    writeFileSync(file, JSON.stringify({ Rpr: outputs }));
    const { aws } = fakeClients(healthy, {});
    const r = await rpr(['deploy-check', '--outputs-file', file], aws);
    expect(r.code, r.stdout).toBe(EXIT.ok);
    expect(r.stdout).toContain('all 6 checks passed');
  });

  it('without --stack or --outputs-file it is bad input', async () => {
    const { aws, calls } = fakeClients({});
    expect((await rpr(['deploy-check'], aws)).code).toBe(EXIT.badInput);
    expect(calls).toEqual([]);
  });
});
