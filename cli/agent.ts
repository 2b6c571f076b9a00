import { hostname } from 'node:os';
import type { Command } from 'commander';
import { runAgent } from '../layers/agent/agent.js';
import { ResetEngine } from '../layers/engine/engine.js';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { cliLog } from './log.js';
import { siteSchema } from '../layers/resources/common.js';
import { assumeRoleCredentials } from './aws.js';
import { ARN, awsTarget, findOutput, positiveInt, stackOutputs, type CommandContext } from './context.js';
import { REGISTRY } from '../layers/resources/registry.js';

interface AgentCommandOptions {
  site: string;
  activityArn?: string;
  roleArn?: string;
  stack?: string;
  outputsFile?: string;
  workerName?: string;
  heartbeatSeconds: number;
  graceSeconds: number;
  concurrency: number;
  taskMinutes: number;
}

/**
 * `rpr agent --site NAME`: the agent for a site the cloud cannot reach. It assumes the site's
 * role, opens the deployment's AWS stores with it, and polls the site's activity until SIGTERM
 * or SIGINT, then finishes (or hands back) its in-flight task and exits 0.
 */
export function registerAgentCommand(program: Command, ctx: CommandContext): void {
  program
    .command('agent')
    .description("serve a site's group tasks here: poll its Step Functions activity (outbound only), reset with the same engine, stop cleanly on SIGTERM")
    .requiredOption('--site <name>', 'the agent site this process serves')
    .option('--activity-arn <arn>', "the site's activity (default: $RPR_ACTIVITY_ARN, or found among --stack's outputs)")
    .option('--role-arn <arn>', "the site's role to assume, renewed before it expires (default: $RPR_AGENT_ROLE_ARN, or found among --stack's outputs; else the ambient credentials)")
    .option('--stack <name>', 'the deployed stack whose outputs name the activity, role and table')
    .option('--outputs-file <path>', 'the outputs "cdk deploy --outputs-file" wrote, instead of reading the stack')
    .option('--worker-name <name>', 'shown in the execution history (default: <site>@<hostname>)')
    .option('--heartbeat-seconds <n>', 'between heartbeats while a task runs (below the activity heartbeat timeout)', positiveInt('--heartbeat-seconds'), 20)
    .option('--grace-seconds <n>', 'how long an in-flight task may finish after SIGTERM before it is handed back', positiveInt('--grace-seconds'), 30)
    .option('--concurrency <n>', 'tasks worked on at once', positiveInt('--concurrency'), 1)
    .option('--task-minutes <n>', "how long one task runs before it hands what is left back to the workflow (below the stack's agent task timeout, 60 by default)", positiveInt('--task-minutes'), 55)
    .action(async (o: AgentCommandOptions) => {
      const site = siteSchema.safeParse(o.site);
      if (!site.success || o.site === 'cloud') throw new InvalidConfigurationError('--site', site.success ? '"cloud" is not an agent site' : site.error.issues[0]!.message);
      const outputs = o.stack || o.outputsFile ? await stackOutputs(ctx, o) : {};
      const activityArn = o.activityArn ?? process.env.RPR_ACTIVITY_ARN ?? findOutput(outputs, ARN.activity, 'activity', o.site);
      if (!activityArn) throw new InvalidConfigurationError('--activity-arn', `name the activity of site "${o.site}" (--activity-arn, $RPR_ACTIVITY_ARN, or --stack with an output for it)`);
      if (!ARN.activity.test(activityArn)) throw new InvalidConfigurationError('--activity-arn', 'is not a Step Functions activity ARN');
      const roleArn = o.roleArn ?? process.env.RPR_AGENT_ROLE_ARN ?? findOutput(outputs, ARN.role, 'agent', o.site);
      if (roleArn && !ARN.role.test(roleArn)) throw new InvalidConfigurationError('--role-arn', 'is not an IAM role ARN');
      const table = ctx.globals().table ?? process.env.RPR_TABLE ?? Object.entries(outputs).find(([k]) => /tablename/i.test(k))?.[1];

      const workerName = o.workerName ?? `${o.site}@${hostname()}`.slice(0, 80);
      const credentials = roleArn
        ? assumeRoleCredentials({ sts: ctx.aws.sts(awsTarget(ctx)), roleArn, sessionName: `rpr-agent-${o.site}`.slice(0, 64) })
        : undefined;
      const log = cliLog(ctx.logLevelGiven() ? ctx.globals().logLevel : 'INFO', ctx.io.stderr, 'rpr-agent');
      const stores = await ctx.openStores({ store: 'aws', ...(table ? { table } : {}), ...(credentials ? { credentials } : {}) });
      const sfn = ctx.aws.activitySfn(awsTarget(ctx, credentials));

      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        const stats = await runAgent({
          sfn,
          activityArn,
          workerName,
          log: log.child({ site: o.site }),
          signal: controller.signal,
          heartbeatIntervalMs: o.heartbeatSeconds * 1000,
          stopGraceMs: o.graceSeconds * 1000,
          concurrency: o.concurrency,
          taskTimeLimitMs: o.taskMinutes * 60_000,
          engineFactory: () => ({ engine: new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log }), config: stores.state }),
        });
        ctx.out(`agent for site ${o.site} stopped: ${stats.tasks} tasks, ${stats.succeeded} done, ${stats.failed} failed, ${stats.stopped} handed back`, stats);
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        sfn.destroy();
      }
    });
}
