import { Command, CommanderError, Option } from 'commander';
import { Configurator } from '../layers/engine/configure.js';
import { InvalidConfigurationError, ResetError } from '../layers/engine/errors.js';
import type { AdapterRegistry } from '../layers/engine/session.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { registerAccountCommands } from './accounts.js';
import { registerAgentCommand } from './agent.js';
import { defaultAwsClients, type AwsClients } from './aws.js';
import { EXIT, type CommandContext, type GlobalOptions, type Io } from './context.js';
import { registerDeployCheck } from './deploy-check.js';
import { registerInitCommand } from './init.js';
import { registerResourceCommands, registerTypesCommand } from './resources.js';
import { registerRunCommands } from './runs.js';
import { registerRotationCommands, registerScheduleCommands } from './schedules.js';
import { registerSecretCommands } from './secret.js';
import { openStores, type StoreOptions, type Stores } from './stores.js';
import { registerTrustCommand } from './trust.js';
import { registerWorkflowRunCommands } from './workflow.js';

export { EXIT, type Io } from './context.js';

const defaultIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

function parseWriteRate(v: string): number {
  const rate = Number(v);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new InvalidConfigurationError('--secrets-write-rate', `must be a positive number of writes per second, not "${v}"`);
  return rate;
}

/**
 * Runs the CLI and returns its exit code; never calls process.exit itself. `aws` makes the AWS clients
 * (tests pass fakes); `adapters`, when given, are the only ones `reset` and `status` use (tests pass
 * their own); without, every implemented type's adapter is loaded when first needed.
 * Each command group registers itself with the context the program gives it.
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
    .addOption(new Option('--log-level <level>', 'engine log level (logs are JSON lines on standard error)').choices(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('SILENT'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const globals = () => program.opts<GlobalOptions>();
  const open = async (overrides: Partial<StoreOptions> = {}) => (stores ??= await openStores({ ...globals(), ...overrides }));
  const ctx: CommandContext = {
    io,
    aws,
    ...(adapters ? { adapters } : {}),
    exit: EXIT,
    globals,
    logLevelGiven: () => program.getOptionValueSource('logLevel') !== 'default',
    out: (human, json) => io.stdout((globals().json ? JSON.stringify(json, null, 2) : human) + '\n'),
    setExit: (c) => void (code = c),
    openStores: open,
    configurator: async () => {
      const s = await open();
      return new Configurator(s.state, s.credentials, REGISTRY);
    },
  };

  // The store itself, secrets and configuration, resets run here and their records, then the AWS deployment.
  registerInitCommand(program, ctx);
  registerSecretCommands(program, ctx);
  registerResourceCommands(program, ctx);
  registerTrustCommand(program, ctx);
  registerAccountCommands(program, ctx);
  registerRunCommands(program, ctx);
  registerTypesCommand(program, ctx);
  registerAgentCommand(program, ctx);
  registerScheduleCommands(program, ctx);
  registerWorkflowRunCommands(program, ctx);
  registerRotationCommands(program, ctx);
  registerDeployCheck(program, ctx);

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
