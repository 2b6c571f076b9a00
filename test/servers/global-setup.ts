// vitest globalSetup: bring the real test servers up before any suite runs.
//
// RPR_TEST_SERVERS=skip  start nothing (suites that need a server are skipped)
// RPR_TEST_SERVERS=keep  leave the servers this run started running at the end
//
// Several test runs may share one machine (and one .test-servers/): each run holds a lease, and
// the last run out stops the servers that test runs started. Servers someone started by hand
// (or .ci/run started before `npm test`) are never stopped here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { envFile, repoRoot, SERVER_NAMES, stateDir, type ServerName } from '../../harness/servers/index.js';
import { testCertificates } from '../../harness/support/https-certificates.js';

const SETUP = join(repoRoot, 'test/servers/setup.sh');
const LEASES = join(stateDir, 'leases');
const OWNED = join(stateDir, 'started-by-test-runs.json');
const LOCK = join(stateDir, '.run-lock');

const underCi = process.env.CI === 'true';

function setupSh(args: string[], capture: boolean): { code: number; output: string } {
  const result = spawnSync('bash', [SETUP, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    timeout: 15 * 60_000,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) return { code: -1, output: `${output}${String(result.error)}\n` };
  return { code: result.status ?? -1, output };
}

function print(output: string): void {
  for (const line of output.split('\n')) if (line !== '') console.log(`[test servers] ${line}`);
}

function fail(message: string): void {
  if (underCi) throw new Error(`[test servers] ${message}`);
  console.warn(`[test servers] ${message} (suites that need a server are skipped)`);
}

/** A short exclusive section across test runs on this machine (mkdir is atomic). */
function withRunLock<T>(fn: () => T): T {
  mkdirSync(stateDir, { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 600_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`[test servers] ${LOCK} held for 5 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function readOwned(): ServerName[] {
  try {
    return JSON.parse(readFileSync(OWNED, 'utf8')) as ServerName[];
  } catch {
    return [];
  }
}

function otherLiveLeases(): number {
  let live = 0;
  for (const file of readdirSync(LEASES)) {
    const pid = Number(file);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      live++;
    } catch {
      rmSync(join(LEASES, file), { force: true });
    }
  }
  return live;
}

function reachable(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer on ${host}:${port} within 5 s`);
    }, 5_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(`${host}:${port}: ${err.message}`);
    });
  });
}

async function unreachableServers(): Promise<string[]> {
  let env: Record<string, { host?: string; port?: number; endpoint?: string }>;
  try {
    env = JSON.parse(readFileSync(envFile, 'utf8')) as typeof env;
  } catch (err) {
    return [`cannot read ${envFile}: ${String(err)}`];
  }
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(env)) {
    const url = entry.endpoint === undefined ? undefined : new URL(entry.endpoint);
    const host = url?.hostname ?? entry.host ?? '';
    const port = url === undefined ? (entry.port ?? 0) : Number(url.port);
    const problem = await reachable(host, port);
    if (problem !== undefined) problems.push(`${name}: ${problem}`);
  }
  return problems;
}

/**
 * The HTTPS simulators' CA, trusted by every worker: Node reads NODE_EXTRA_CA_CERTS when a process
 * starts, and vitest starts its workers after this setup, with this environment.
 */
function trustSimulatorCa(): void {
  const { caFile, ca } = testCertificates();
  const own = process.env.NODE_EXTRA_CA_CERTS;
  if (own === undefined || own === '' || own === caFile) {
    process.env.NODE_EXTRA_CA_CERTS = caFile;
    return;
  }
  // Someone's own extra CAs stay trusted beside ours.
  const both = join(stateDir, 'https', 'extra-ca.pem');
  writeFileSync(both, `${readFileSync(own, 'utf8')}\n${ca}`);
  process.env.NODE_EXTRA_CA_CERTS = both;
}

export default async function setup(): Promise<(() => void) | undefined> {
  trustSimulatorCa();
  const mode = process.env.RPR_TEST_SERVERS;
  if (mode === 'skip') {
    console.log('[test servers] RPR_TEST_SERVERS=skip: starting none');
    return undefined;
  }
  if (process.getuid?.() !== 0) {
    fail('not root: cannot install or start the test servers');
    return undefined;
  }

  if (setupSh(['installed'], true).code !== 0) {
    console.log('[test servers] packages missing: running setup.sh install');
    const install = setupSh(['install'], false);
    if (install.code !== 0) {
      fail(`setup.sh install exited ${install.code}`);
      return undefined;
    }
  }

  // Start, lease and ownership in one section, so that a run ending meanwhile cannot stop what we count on.
  const start = withRunLock(() => {
    const result = setupSh(['start'], true);
    const startedHere = SERVER_NAMES.filter((name) => new RegExp(`^${name}:\\s+started\\b`, 'm').test(result.output));
    mkdirSync(LEASES, { recursive: true });
    writeFileSync(join(LEASES, String(process.pid)), '');
    writeFileSync(OWNED, JSON.stringify([...new Set([...readOwned(), ...startedHere])]));
    return result;
  });
  print(start.output);

  if (start.code !== 0) fail(`setup.sh start exited ${start.code}`);
  const problems = await unreachableServers();
  if (problems.length > 0) fail(`not reachable: ${problems.join('; ')}`);

  return () => {
    withRunLock(() => {
      rmSync(join(LEASES, String(process.pid)), { force: true });
      if (mode === 'keep' || otherLiveLeases() > 0) return;
      const owned = readOwned();
      rmSync(OWNED, { force: true });
      if (owned.length > 0) print(setupSh(['stop', ...owned], true).output);
    });
  };
}
