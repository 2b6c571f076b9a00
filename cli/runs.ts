import type { Command } from 'commander';
import { ResetEngine, tokenFor, type Selector } from '../layers/engine/engine.js';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { holderGone, thisProcess } from '../layers/engine/holder.js';
import { cliLog } from './log.js';
import type { RunMode, RunRecord } from '../layers/engine/stores/types.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { selectorOf, withSelectorOptions, type CommandContext, type SelectorOptions } from './context.js';
import { detectDrift } from './drift.js';
import { auditRow, progress, table } from './format.js';
import type { Stores } from './stores.js';

/** `rpr reset` (and `--dry-run`), `verify`, `runs`, `status` and `audit`: resets and verify runs run here, with the engine on the chosen store, and what they recorded. */
export function registerRunCommands(program: Command, ctx: CommandContext): void {
  withSelectorOptions(program.command('reset').description('reset passwords: selectors combine with AND, repeated values with OR'))
    .option('--all', 'every configured account')
    .option('--concurrency <n>', 'resources worked on at once', (v) => Number.parseInt(v, 10), 8)
    .option('--dry-run', 'change nothing: per resource, connect, authenticate its logins and check what the change needs; say what a real run would do or why it would fail')
    .action(async (o: RunCommandOptions & { dryRun?: boolean }) => (o.dryRun ? dryRun(ctx, o) : runAndReport(ctx, o, 'reset')));
  withSelectorOptions(
    program
      .command('verify')
      .description("check each selected account's AWSCURRENT on the target, changing nothing: in-sync, drifted (changed outside rpr), out-of-sync (another version rpr holds works), failed or skipped (the type cannot tell without a change)"),
  )
    .option('--all', 'every configured account')
    .option('--concurrency <n>', 'resources worked on at once', (v) => Number.parseInt(v, 10), 8)
    .action(async (o: RunCommandOptions) => runAndReport(ctx, o, 'verify'));
  program
    .command('runs')
    .description('recent runs')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (o: { limit: number }) => {
      const runs = (await (await ctx.openStores()).state.listRuns(o.limit)).map(shown);
      ctx.out(table(runs.map((r) => ({ run: r.runId, mode: r.mode ?? 'reset', status: r.status, started: r.startedAt, ended: r.endedAt, counts: summary(r) }))), runs);
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
      const recorded = await s.state.getRun(runId);
      if (!recorded) throw new InvalidConfigurationError('runId', `run "${runId}" does not exist`);
      const run = shown(recorded);
      const plain = await s.state.listAccountResults(runId);
      const left = run.interrupted ? await leftUnfinished(s, recorded, new Set(plain.map((r) => r.accountId))) : [];
      const drift = o.drift ? await detectDrift({ state: s.state, credentials: s.credentials, ...(ctx.adapters ? { adapters: ctx.adapters } : {}), log: cliLog(ctx.globals().logLevel, ctx.io.stderr) }, plain) : new Map();
      const results = plain.map((r) => (drift.has(r.accountId) ? { ...r, drift: drift.get(r.accountId) } : r));
      const rows = [
        ...results.map((r) => ({ ...resultRow(r), ...(drift.size ? { drift: driftCell(drift.get(r.accountId)) } : {}) })),
        ...left.map((l) => ({ account: l.accountId, outcome: 'interrupted', step: l.step, detail: l.detail, ...(drift.size ? { drift: '' } : {}) })),
      ];
      const why = run.interrupted ? `\n${run.interrupted}; the next reset of its accounts takes their leases over and settles what it left` : '';
      ctx.out(`${run.mode === 'verify' ? 'verify ' : ''}run ${run.runId}: ${run.status} (${summary(run)})${why}\n\n${table(rows)}`, { ...run, results, ...(left.length ? { unfinished: left } : {}) });
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

/**
 * A run as shown: one still recorded as running whose process is gone (holder.ts: its pid ended on
 * this machine, or its heartbeat stopped elsewhere) is `interrupted`, saying why. A run without an
 * owner (a workflow's: Step Functions tells its state) is shown as recorded.
 */
function shown(run: RunRecord): Omit<RunRecord, 'status'> & { status: RunRecord['status'] | 'interrupted'; interrupted?: string } {
  if (run.status !== 'running' || !run.owner) return run;
  const heartbeatAt = run.heartbeatAt === undefined ? undefined : Date.parse(run.heartbeatAt);
  const gone = holderGone({ holder: run.owner, ...(heartbeatAt !== undefined ? { heartbeatAt } : {}) }, { me: thisProcess('cli'), now: Date.now() });
  return gone ? { ...run, status: 'interrupted', interrupted: `interrupted: ${gone}` } : run;
}

/**
 * What an interrupted run left undone: each account it selected that has no result, and how far it
 * got, from what the run left behind (its set-attempt mark, its pending version) and the step its
 * last heartbeat recorded. Accounts since removed are not planned; those in flight still are.
 */
async function leftUnfinished(stores: Stores, run: RunRecord, recorded: ReadonlySet<string>): Promise<{ accountId: string; step: string; detail: string }[]> {
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: {}, log: cliLog('SILENT', () => undefined) });
  const planned = await engine.plan(run.selector as Selector).catch(() => []);
  const steps = new Map((run.inFlight ?? []).map((a) => [a.accountId, a.step]));
  // Planned accounts after the heartbeat's, so an account in both keeps its secret id.
  const byId = new Map<string, { id: string; secretId?: string }>([...steps.keys()].map((id) => [id, { id }]));
  for (const a of planned.flatMap((g) => g.accounts)) byId.set(a.id, a);
  const accounts = [...byId.values()].filter((a) => !recorded.has(a.id));
  return Promise.all(
    accounts.map(async (a) => {
      const token = tokenFor(run.runId, a.id);
      const setSent = await stores.state.hasSetAttempt(a.id, token);
      const pending = !setSent && a.secretId !== undefined && (await stores.credentials.listVersions(a.secretId).catch(() => [])).some((v) => v.versionId === token);
      const step = steps.get(a.id) ?? (setSent ? 'set' : pending ? 'create' : 'not started');
      const detail = setSent
        ? 'its change was sent and may have reached the target; the next reset finds out which password works'
        : pending
          ? 'its pending version was stored; no change was sent'
          : 'no change was sent';
      return { accountId: a.id, step, detail };
    }),
  );
}

type RunCommandOptions = SelectorOptions & { all?: boolean; concurrency: number };

/** The selector and engine a `reset` or `verify` names; bad input (no selector, a bad --concurrency) is refused first. */
async function engineFor(ctx: CommandContext, o: RunCommandOptions, what: string): Promise<{ engine: ResetEngine; selector: Selector; stores: Stores }> {
  const selector = selectorOf(o);
  if (!o.all && Object.keys(selector).length === 0) throw new InvalidConfigurationError('selector', `name accounts to ${what} (--account, --resource, --type, --tag, --site) or --all`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new InvalidConfigurationError('--concurrency', 'must be a positive integer');
  const stores = await ctx.openStores();
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, ...(ctx.adapters ? { adapters: ctx.adapters } : {}), log: cliLog(ctx.globals().logLevel, ctx.io.stderr), concurrency: o.concurrency });
  return { engine, selector, stores };
}

/** A reset or verify run here: its per-account results, and an exit code by its status (0 only when every account succeeded, or is in sync). */
async function runAndReport(ctx: CommandContext, o: RunCommandOptions, mode: RunMode): Promise<void> {
  const { engine, selector, stores } = await engineFor(ctx, o, mode);
  const bar = progress({ stream: process.stderr, json: ctx.globals().json === true, concurrency: o.concurrency });
  let run;
  try {
    run = await engine.run(selector, { mode, onAccountDone: (r, done, total) => bar.update(done, total, { outcome: r.outcome, note: `${r.accountId}: ${r.outcome}` }) });
  } finally {
    bar.end();
  }
  const results = await stores.state.listAccountResults(run.runId);
  ctx.out(`${table(results.map(resultRow))}\n\n${mode === 'verify' ? 'verify ' : ''}run ${run.runId}: ${run.status} (${summary(run)})`, { ...run, results });
  ctx.setExit(run.counts.total === 0 || run.status === 'succeeded' ? ctx.exit.ok : run.status === 'partial' ? ctx.exit.partial : ctx.exit.failed);
}

/** `rpr reset --dry-run`: the findings per resource and what a real run would do per account; exit 0 only when nothing would fail. */
async function dryRun(ctx: CommandContext, o: RunCommandOptions): Promise<void> {
  const { engine, selector } = await engineFor(ctx, o, 'reset');
  const report = await engine.dryRun(selector);
  // Lines, not a table: the reasons are what an operator reads, and a table cell would cut them short.
  const text = report.resources.map((r) =>
    [
      `resource ${r.resourceId} (${r.type}): ${r.ok ? 'a real run would pass these checks' : 'a real run would fail'}`,
      ...r.findings.map((f) => `  ${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}${f.accountId ? ` (${f.accountId})` : ''}: ${f.detail}`),
      ...r.accounts.map((a) => `  ${a.accountId}: ${a.ok ? a.wouldDo : `would fail (${[...new Set(a.failures.map((f) => f.slice(0, f.indexOf(':'))))].join(', ')})`}`),
    ].join('\n'),
  );
  const accounts = report.resources.flatMap((r) => r.accounts);
  const failing = accounts.filter((a) => !a.ok).length;
  ctx.out(`${text.join('\n\n') || '(no accounts selected)'}\n\ndry run: nothing was changed; ${failing} of ${accounts.length} account(s) would fail`, report);
  ctx.setExit(failing === 0 ? ctx.exit.ok : failing < accounts.length ? ctx.exit.partial : ctx.exit.failed);
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
