import { randomBytes } from 'node:crypto';
import { CreateScheduleGroupCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { resetRequestSchema } from '../../../layers/workflow/events.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../aws/clients.js';

/** `rpr schedule` and `rpr run` against moto's EventBridge Scheduler and Step Functions. */
describeServer('moto', 'rpr schedule and run on moto', (moto) => {
  const group = `rpr-${randomBytes(4).toString('hex')}`;
  const aws = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
  const scheduler = new SchedulerClient(aws);
  const sfn = new SFNClient(aws);
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
  let stateMachineArn: string;
  const rpr = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--endpoint', moto.endpoint, '--region', MOTO_REGION, ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    await scheduler.send(new CreateScheduleGroupCommand({ Name: group }));
    const sm = await sfn.send(new CreateStateMachineCommand({ name: group, roleArn: 'arn:aws:iam::123456789012:role/rpr-workflow', definition: JSON.stringify({ StartAt: 'Plan', States: { Plan: { Type: 'Pass', End: true } } }) }));
    stateMachineArn = sm.stateMachineArn!;
  });
  afterAll(() => {
    scheduler.destroy();
    sfn.destroy();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
  });

  it('schedule add, list and remove: the stored schedule starts the workflow with the selector', async () => {
    const added = await rpr(['schedule', 'add', '--every', '30d', '--type', 'cisco-ios', '--site', 'dmz1', '--window', '1h', '--group', group, '--state-machine-arn', stateMachineArn, '--scheduler-role-arn', 'arn:aws:iam::123456789012:role/rpr-scheduler']);
    expect(added.code, added.stderr).toBe(EXIT.ok);

    const stored = await scheduler.send(new GetScheduleCommand({ Name: 'every-30d-cisco-ios-dmz1', GroupName: group }));
    expect(stored).toMatchObject({ ScheduleExpression: 'rate(30 days)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 60 }, Target: { Arn: stateMachineArn } });
    expect(resetRequestSchema.parse(JSON.parse(stored.Target!.Input!)).selector).toEqual({ types: ['cisco-ios'], sites: ['dmz1'] });
    const listed = await rpr(['--json', 'schedule', 'list', '--group', group]);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'every-30d-cisco-ios-dmz1', every: 'rate(30 days)', window: '60m' }]);

    expect((await rpr(['schedule', 'remove', 'every-30d-cisco-ios-dmz1', '--group', group])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'schedule', 'list', '--group', group])).stdout)).toEqual([]);
    expect((await rpr(['schedule', 'remove', 'every-30d-cisco-ios-dmz1', '--group', group])).code).toBe(EXIT.badInput);
  });

  it('run start names the execution by the idempotency key and passes the reset request; run watch follows it until it ends (moto keeps executions running, so the test stops it)', async () => {
    const started = await rpr(['--json', 'run', 'start', '--tag', 'pci', '--idempotency-key', `${group}-1`, '--state-machine-arn', stateMachineArn]);
    expect(started.code, started.stderr).toBe(EXIT.ok);
    const { executionArn } = JSON.parse(started.stdout) as { executionArn: string };
    expect(executionArn.endsWith(`:${group}-1`)).toBe(true);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(execution.input!)).toEqual({ selector: { tags: ['pci'] }, idempotencyKey: `${group}-1` });

    const watching = rpr(['run', 'watch', executionArn, '--interval', '0.1']);
    await new Promise((r) => setTimeout(r, 500));
    await sfn.send(new StopExecutionCommand({ executionArn }));
    const watched = await watching;

    expect(watched.stdout).toMatch(/RUNNING\n.*ABORTED\n/);
    expect(watched.stdout).toContain('execution ABORTED');
    expect(watched.code).toBe(EXIT.failed);
  });
});
