import type { Command } from 'commander';
import { ResetEngine } from '../layers/engine/engine.js';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { Log } from '../layers/engine/log.js';
import type { RunRecord } from '../layers/engine/stores/types.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { selectorOf, withSelectorOptions, type CommandContext, type SelectorOptions } from './context.js';
import { detectDrift } from './drift.js';
import { auditRow, progress, table } from './format.js';

/** `rpr reset`, `runs`, `status` and `audit`: resets run here, with the engine on the chosen store, and what they recorded. */
export function registerRunCommands(program: Command, ctx: CommandContext): void {
  withSelectorOptions(program.command('reset').description('reset passwords: selectors combine with AND, repeated values with OR'))
    .option('--all', 'every configured account')
    .option('--concurrency <n>', 'resources worked on at once', (v) => Number.parseInt(v, 10), 8)
    .action(async (o: SelectorOptions & { all?: boolean; concurrency: number }) => {
      const selector = selectorOf(o);
      if (!o.all && Object.keys(selector).length === 0) throw new InvalidConfigurationError('selector', 'name accounts to reset (--account, --resource, --type, --tag, --site) or --all');
      if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new InvalidConfigurationError('--concurrency', 'must be a positive integer');
      const s = await ctx.openStores();
      const engine = new ResetEngine({ registry: REGISTRY, state: s.state, credentials: s.credentials, ...(ctx.adapters ? { adapters: ctx.adapters } : {}), log: new Log({ level: ctx.globals().logLevel }), concurrency: o.concurrency });
      const bar = progress();
      const run = await engine.run(selector, { onAccountDone: (r, done, total) => bar.update(done, total, `${r.accountId}: ${r.outcome}`) });
      bar.end();
      const results = await s.state.listAccountResults(run.runId);
      ctx.out(`${table(results.map(resultRow))}\n\nrun ${run.runId}: ${run.status} (${summary(run)})`, { ...run, results });
      ctx.setExit(run.counts.total === 0 || run.status === 'succeeded' ? ctx.exit.ok : run.status === 'partial' ? ctx.exit.partial : ctx.exit.failed);
    });
  program
    .command('runs')
    .description('recent runs')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (o: { limit: number }) => {
      const runs = await (await ctx.openStores()).state.listRuns(o.limit);
      ctx.out(table(runs.map((r) => ({ run: r.runId, status: r.status, started: r.startedAt, ended: r.endedAt, counts: summary(r) }))), runs);
    });
  program
    .command('status <runId>')
    .description(
      "a run's status and per-account results; for types that can tell without logging in as the account (windows-domain: pwdLastSet), " +
        'a DRIFT column says whether the password was changed outside rpr since its last successful reset',
    )
    .option('--no-drift', 'do not ask the targets whether passwords were changed outside rpr')
    .action(async (runId: string, o: { drift: boolean }) => {
      const s = await ctx.openStores();
      const run = await s.state.getRun(runId);
      if (!run) throw new InvalidConfigurationError('runId', `run "${runId}" does not exist`);
      const plain = await s.state.listAccountResults(runId);
      const drift = o.drift ? await detectDrift({ state: s.state, credentials: s.credentials, ...(ctx.adapters ? { adapters: ctx.adapters } : {}), log: new Log({ level: ctx.globals().logLevel }) }, plain) : new Map();
      const results = plain.map((r) => (drift.has(r.accountId) ? { ...r, drift: drift.get(r.accountId) } : r));
      const rows = results.map((r) => ({ ...resultRow(r), ...(drift.size ? { drift: driftCell(drift.get(r.accountId)) } : {}) }));
      ctx.out(`run ${run.runId}: ${run.status} (${summary(run)})\n\n${table(rows)}`, { ...run, results });
    });
  program
    .command('audit')
    .description('the audit trail, newest first')
    .option('--account <id>')
    .option('--run <id>')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { account?: string; run?: string; limit: number }) => {
      const records = await (await ctx.openStores()).state.listAudit({ ...(o.account ? { accountId: o.account } : {}), ...(o.run ? { runId: o.run } : {}), limit: o.limit });
      ctx.out(table(records.map(auditRow)), records);
    });
}

const summary = (run: Pick<RunRecord, 'counts' | 'throttling'>) =>
  [
    Object.entries(run.counts as Record<string, number | undefined>)
      .filter(([k, v]) => k !== 'total' && v)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || `${run.counts.total ?? 0} accounts`,
    // Slowed down, not failed: Secrets Manager or DynamoDB asked us to wait, and we did.
    run.throttling ? `${run.throttling.accounts} throttled and retried ${run.throttling.retries} times` : undefined,
  ]
    .filter(Boolean)
    .join('; ');

const resultRow = (r: { accountId: string; outcome: string; step: string; method?: string; workingVersion?: string; keptVersion?: string; message?: string; throttled?: number }) => ({
  account: r.accountId,
  outcome: r.outcome,
  step: r.step,
  detail: [r.method, r.workingVersion ? `works: ${r.workingVersion}` : undefined, r.keptVersion ? `kept as ${r.keptVersion}` : undefined, r.throttled ? `throttled ${r.throttled}× and retried` : undefined, r.message].filter(Boolean).join('; '),
});

const driftCell = (d: { state: string; reason?: string } | undefined) => (d === undefined ? '' : d.state === 'unknown' && d.reason ? `unknown (${d.reason})` : d.state);
