import { Command, CommanderError, Option } from 'commander';
import { Configurator } from '../layers/engine/configure.js';
import { ResetEngine, type Selector } from '../layers/engine/engine.js';
import { InvalidConfigurationError, ResetError } from '../layers/engine/errors.js';
import { Log, type LogLevel } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import type { AdapterRegistry } from '../layers/engine/session.js';
import type { RunRecord } from '../layers/engine/stores/types.js';
import { RESOURCE_TYPES } from '../layers/resources/common.js';
import { REGISTRY, RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';
import { registerAgentCommand } from './agent.js';
import { defaultAwsClients, type AwsClients } from './aws.js';
import type { CommandContext } from './context.js';
import { registerDeploymentCommands } from './deployment.js';
import { detectDrift } from './drift.js';
import { progress, table } from './format.js';
import { parseAssignment, readImportFile, readJsonFile } from './import.js';
import { registerSecretCommands } from './secret.js';
import { openStores, type StoreOptions, type Stores } from './stores.js';

/** Exit codes: scripts tell success, partial failure, bad input and total failure apart. */
export const EXIT = { ok: 0, partial: 1, badInput: 2, failed: 3, error: 4 } as const;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

const defaultIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

interface GlobalOptions extends StoreOptions {
  json?: boolean;
  logLevel: LogLevel;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function parseWriteRate(v: string): number {
  const rate = Number(v);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new InvalidConfigurationError('--secrets-write-rate', `must be a positive number of writes per second, not "${v}"`);
  return rate;
}

/**
 * Runs the CLI and returns its exit code; never calls process.exit itself. `aws` makes the AWS clients
 * (tests pass fakes); `adapters`, when given, are the only ones `reset` and `status` use (tests pass
 * their own); without, every implemented type's adapter is loaded when first needed.
 */
export async function runCli(argv: string[], io: Io = defaultIo, aws: AwsClients = defaultAwsClients, adapters?: AdapterRegistry): Promise<number> {
  let code: number = EXIT.ok;
  let stores: Stores | undefined;
  const program = new Command('rpr')
    .description('Remote password reset: configure resources and accounts, reset passwords, read the audit trail.')
    .addOption(new Option('--store <store>', 'where configuration and credentials live').choices(['embedded', 'aws']).default('embedded'))
    .option('--data-dir <dir>', 'embedded store folder (default: $RPR_HOME or ~/.rpr)')
    .option('--table <name>', 'DynamoDB table for --store aws (default: $RPR_TABLE or rpr-state)')
    .option('--region <region>', 'AWS region for --store aws')
    .option('--endpoint <url>', 'AWS endpoint override for --store aws (tests, moto)')
    .option('--secrets-write-rate <n>', "Secrets Manager writes per second for --store aws, shared with the deployment's functions (default: $RPR_SECRETS_WRITE_RATE or 45, of the region's 50)", parseWriteRate)
    .option('--json', 'print JSON for scripts')
    .addOption(new Option('--log-level <level>', 'engine log level (logs are JSON on stdout)').choices(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('SILENT'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const g = () => program.opts<GlobalOptions>();
  const open = async (overrides: Partial<StoreOptions> = {}) => (stores ??= await openStores({ ...g(), ...overrides }));
  const out = (human: string, json: unknown) => io.stdout((g().json ? JSON.stringify(json, null, 2) : human) + '\n');
  const configurator = async () => {
    const s = await open();
    return new Configurator(s.state, s.credentials, REGISTRY);
  };

  registerSecretCommands(program, { configurator, readStdin: io.readStdin, out });

  // ---- resources
  const resource = program.command('resource').description('add, list, show, update, remove and import resources');
  resource
    .command('add')
    .description('add a resource: --type, --id, --host and --set field=value, or --file with its JSON')
    .option('--file <path>', 'the resource as a JSON object')
    .option('--type <type>', `resource type (${RESOURCE_TYPES.length} types; see "rpr types")`)
    .option('--id <id>')
    .option('--host <host>')
    .option('--set <field=value>', 'a configuration field (dotted path; JSON values allowed); repeatable', collect)
    .option('--tag <tag>', 'repeatable', collect)
    .action(async (o: { file?: string; type?: string; id?: string; host?: string; set?: string[]; tag?: string[] }) => {
      const input: Record<string, unknown> = o.file ? readJsonFile(o.file) : {};
      if (o.type) input.type = o.type;
      if (o.id) input.id = o.id;
      if (o.host) input.host = o.host;
      if (o.tag) input.tags = o.tag;
      for (const a of o.set ?? []) parseAssignment(a, input);
      const r = await (await configurator()).putResource(input, { mustNotExist: true });
      out(`added resource ${r.id} (${r.type})`, r);
    });
  resource
    .command('list')
    .option('--type <type>')
    .option('--tag <tag>')
    .option('--site <site>')
    .action(async (o: { type?: string; tag?: string; site?: string }) => {
      const list = await (await open()).state.listResources(o);
      out(table(list.map((r) => ({ id: r.id, type: r.type, host: r.host, port: r.port, site: r.site, tags: r.tags })), ['id', 'type', 'host', 'port', 'site', 'tags']), list);
    });
  resource
    .command('show <id>')
    .action(async (id: string) => {
      const s = await open();
      const r = await s.state.getResource(id);
      if (!r) throw new InvalidConfigurationError('id', `resource "${id}" does not exist`);
      const accounts = await s.state.listAccounts({ resourceId: id });
      out(`${JSON.stringify(r, null, 2)}\n\naccounts:\n${table(accounts.map((a) => ({ id: a.id, username: a.username, secretId: a.secretId, tags: a.tags })))}`, { ...r, accounts });
    });
  resource
    .command('update <id>')
    .option('--file <path>', 'fields to change, as a JSON object')
    .option('--set <field=value>', 'repeatable', collect)
    .action(async (id: string, o: { file?: string; set?: string[] }) => {
      const changes: Record<string, unknown> = o.file ? readJsonFile(o.file) : {};
      for (const a of o.set ?? []) parseAssignment(a, changes);
      const r = await (await configurator()).updateResource(id, changes);
      out(`updated resource ${r.id}`, r);
    });
  resource
    .command('remove <id>')
    .option('--with-accounts', 'also remove its accounts (their secrets are kept)')
    .action(async (id: string, o: { withAccounts?: boolean }) => {
      await (await configurator()).removeResource(id, o);
      out(`removed resource ${id}`, { removed: id });
    });
  resource
    .command('import <file>')
    .description('import many resources from CSV (header row of field paths) or JSON (array), each merged over --config')
    .option('--config <path>', 'one configuration shared by every row (JSON object)')
    .option('--skip-bad', 'import the good rows even if some are bad')
    .action(async (file: string, o: { config?: string; skipBad?: boolean }) => {
      const rows = readImportFile(file);
      const result = await (await configurator()).importResources(rows, o.config ? readJsonFile(o.config) : {}, o);
      for (const b of result.bad) io.stderr(`${file}:${b.line}: ${b.message}\n`);
      if (result.bad.length && !o.skipBad) {
        io.stderr(`nothing imported: ${result.bad.length} of ${rows.length} rows are bad (use --skip-bad to import the rest)\n`);
        code = EXIT.badInput;
      } else if (result.bad.length) code = EXIT.partial;
      out(`imported ${result.imported.length} of ${rows.length} resources`, result);
    });

  // ---- accounts
  const account = program.command('account').description('add, list, show, update and remove accounts');
  account
    .command('add')
    .requiredOption('--resource <id>')
    .requiredOption('--username <name>', 'the user name on the target (a DN for LDAP)')
    .option('--id <id>', 'default: <resource>/<username>')
    .option('--secret-id <id>', 'the secret holding its password (default: rpr/<resource>/<username>)')
    .option('--password-stdin', "read the account's current password from standard input and create its secret")
    .option('--tag <tag>', 'repeatable', collect)
    .action(async (o: { resource: string; username: string; id?: string; secretId?: string; passwordStdin?: boolean; tag?: string[] }) => {
      const password = o.passwordStdin ? new Secret((await io.readStdin()).replace(/\r?\n$/, '')) : undefined;
      if (password && password.length === 0) throw new InvalidConfigurationError('--password-stdin', 'standard input was empty');
      const a = await (await configurator()).putAccount(
        { resourceId: o.resource, username: o.username, secretId: o.secretId ?? `rpr/${o.resource}/${o.username}`, ...(o.id ? { id: o.id } : {}), tags: o.tag ?? [] },
        { mustNotExist: true, ...(password ? { password } : {}) },
      );
      out(`added account ${a.id}`, a);
    });
  account
    .command('list')
    .option('--resource <id>')
    .action(async (o: { resource?: string }) => {
      const list = await (await open()).state.listAccounts(o.resource ? { resourceId: o.resource } : {});
      out(table(list.map((a) => ({ id: a.id, resource: a.resourceId, username: a.username, secretId: a.secretId, tags: a.tags }))), list);
    });
  account.command('show <id>').action(async (id: string) => {
    const s = await open();
    const a = await s.state.getAccount(id);
    if (!a) throw new InvalidConfigurationError('id', `account "${id}" does not exist`);
    const versions = await s.credentials.listVersions(a.secretId).catch(() => []);
    const audit = await s.state.listAudit({ accountId: id, limit: 10 });
    out(`${JSON.stringify(a, null, 2)}\n\nsecret versions:\n${table(versions.map((v) => ({ version: v.versionId, stages: v.stages })))}\n\nrecent audit:\n${table(audit.map(auditRow))}`, { ...a, versions, audit });
  });
  account
    .command('update <id>')
    .option('--secret-id <id>')
    .option('--tag <tag>', 'replaces the tags; repeatable', collect)
    .action(async (id: string, o: { secretId?: string; tag?: string[] }) => {
      const s = await open();
      const a = await s.state.getAccount(id);
      if (!a) throw new InvalidConfigurationError('id', `account "${id}" does not exist`);
      const updated = await (await configurator()).putAccount({ ...a, ...(o.secretId ? { secretId: o.secretId } : {}), ...(o.tag ? { tags: o.tag } : {}) });
      out(`updated account ${updated.id}`, updated);
    });
  account
    .command('remove <id>')
    .option('--delete-secret', 'also delete its secret')
    .action(async (id: string, o: { deleteSecret?: boolean }) => {
      await (await configurator()).removeAccount(id, o);
      out(`removed account ${id}`, { removed: id });
    });

  // ---- resets, runs, audit
  program
    .command('reset')
    .description('reset passwords: selectors combine with AND, repeated values with OR')
    .option('--account <id>', 'repeatable', collect)
    .option('--resource <id>', 'repeatable', collect)
    .option('--type <type>', 'repeatable', collect)
    .option('--tag <tag>', 'account or resource tag; repeatable', collect)
    .option('--site <site>', 'repeatable', collect)
    .option('--all', 'every configured account')
    .option('--concurrency <n>', 'resources worked on at once', (v) => Number.parseInt(v, 10), 8)
    .action(async (o: { account?: string[]; resource?: string[]; type?: string[]; tag?: string[]; site?: string[]; all?: boolean; concurrency: number }) => {
      const selector: Selector = {
        ...(o.account ? { accountIds: o.account } : {}),
        ...(o.resource ? { resourceIds: o.resource } : {}),
        ...(o.type ? { types: o.type } : {}),
        ...(o.tag ? { tags: o.tag } : {}),
        ...(o.site ? { sites: o.site } : {}),
      };
      if (!o.all && Object.keys(selector).length === 0) throw new InvalidConfigurationError('selector', 'name accounts to reset (--account, --resource, --type, --tag, --site) or --all');
      if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new InvalidConfigurationError('--concurrency', 'must be a positive integer');
      const s = await open();
      const engine = new ResetEngine({ registry: REGISTRY, state: s.state, credentials: s.credentials, ...(adapters ? { adapters } : {}), log: new Log({ level: g().logLevel }), concurrency: o.concurrency });
      const bar = progress();
      const run = await engine.run(selector, { onAccountDone: (r, done, total) => bar.update(done, total, `${r.accountId}: ${r.outcome}`) });
      bar.end();
      const results = await s.state.listAccountResults(run.runId);
      out(`${table(results.map(resultRow))}\n\nrun ${run.runId}: ${run.status} (${summary(run)})`, { ...run, results });
      code = run.counts.total === 0 ? EXIT.ok : run.status === 'succeeded' ? EXIT.ok : run.status === 'partial' ? EXIT.partial : EXIT.failed;
    });
  program
    .command('runs')
    .description('recent runs')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (o: { limit: number }) => {
      const runs = await (await open()).state.listRuns(o.limit);
      out(table(runs.map((r) => ({ run: r.runId, status: r.status, started: r.startedAt, ended: r.endedAt, counts: summary(r) }))), runs);
    });
  program
    .command('status <runId>')
    .description(
      "a run's status and per-account results; for types that can tell without logging in as the account (windows-domain: pwdLastSet), " +
        'a DRIFT column says whether the password was changed outside rpr since its last successful reset',
    )
    .option('--no-drift', 'do not ask the targets whether passwords were changed outside rpr')
    .action(async (runId: string, o: { drift: boolean }) => {
      const s = await open();
      const run = await s.state.getRun(runId);
      if (!run) throw new InvalidConfigurationError('runId', `run "${runId}" does not exist`);
      const plain = await s.state.listAccountResults(runId);
      const drift = o.drift ? await detectDrift({ state: s.state, credentials: s.credentials, ...(adapters ? { adapters } : {}), log: new Log({ level: g().logLevel }) }, plain) : new Map();
      const results = plain.map((r) => (drift.has(r.accountId) ? { ...r, drift: drift.get(r.accountId) } : r));
      const rows = results.map((r) => ({ ...resultRow(r), ...(drift.size ? { drift: driftCell(drift.get(r.accountId)) } : {}) }));
      out(`run ${run.runId}: ${run.status} (${summary(run)})\n\n${table(rows)}`, { ...run, results });
    });
  program
    .command('audit')
    .description('the audit trail, newest first')
    .option('--account <id>')
    .option('--run <id>')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { account?: string; run?: string; limit: number }) => {
      const records = await (await open()).state.listAudit({ ...(o.account ? { accountId: o.account } : {}), ...(o.run ? { runId: o.run } : {}), limit: o.limit });
      out(table(records.map(auditRow)), records);
    });
  program
    .command('types')
    .description('every resource type, its default port and whether this build can reset it')
    .action(() => {
      const rows = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => ({ type: d.type, title: d.title, port: d.defaultPort, supported: d.implementation === 'not yet' ? 'not yet' : 'yes', verified: d.verification }));
      out(table(rows), rows);
    });

  // ---- the AWS deployment: agent, schedules, workflow runs, rotation, deploy-check
  const ctx: CommandContext = {
    io,
    aws,
    exit: EXIT,
    globals: g,
    logLevelGiven: () => program.getOptionValueSource('logLevel') !== 'default',
    out,
    setExit: (c) => void (code = c),
    openStores: open,
  };
  registerAgentCommand(program, ctx);
  registerDeploymentCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    code = reportError(e, io);
  } finally {
    await stores?.close();
  }
  return code;
}

function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (e instanceof InvalidConfigurationError) {
    io.stderr(`error: ${e.message}\n`);
    return EXIT.badInput;
  }
  if (e instanceof ResetError) {
    io.stderr(`error (${e.name}): ${e.message}\n`);
    return EXIT.failed;
  }
  io.stderr(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT.error;
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

const resultRow = (r: { accountId: string; outcome: string; step: string; method?: string; workingVersion?: string; message?: string; throttled?: number }) => ({
  account: r.accountId,
  outcome: r.outcome,
  step: r.step,
  detail: [r.method, r.workingVersion ? `works: ${r.workingVersion}` : undefined, r.throttled ? `throttled ${r.throttled}× and retried` : undefined, r.message].filter(Boolean).join('; '),
});

const driftCell = (d: { state: string; reason?: string } | undefined) => (d === undefined ? '' : d.state === 'unknown' && d.reason ? `unknown (${d.reason})` : d.state);

const auditRow = (a: { at: string; accountId: string; runId: string; event: string; outcome?: string; versionId?: string; detail?: string }) => ({
  at: a.at,
  account: a.accountId,
  run: a.runId,
  outcome: a.outcome,
  version: a.versionId,
  detail: a.detail,
});
