/**
 * What the service-processor integration tests share (hp-ilo.test.ts, ilom.test.ts): a resource
 * on a simulator started with startDeviceSimulator, accounts and credentials, and the device
 * adapter built as the engine builds it (adapterContext).
 */
import type { Account } from '../../../layers/engine/account.js';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import type { ServiceProcessor } from '../../simulators/device/service-processor.js';
import { sshShell } from './clients.js';

export const RESOURCE_ID = 'sp-test';

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `${RESOURCE_ID}/${username}`, username, password: new Secret(password) };
}

/** Simulators started by a test file, stopped in afterEach. */
export class Simulators {
  readonly #running: DeviceSimulator[] = [];

  async start(dialect: ServiceProcessor, options: { legacySsh?: boolean } = {}): Promise<DeviceSimulator> {
    const sim = await startDeviceSimulator(dialect, options);
    this.#running.push(sim);
    return sim;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#running.splice(0).map((s) => s.stop()));
  }
}

/** The adapter for `resource`, with the admin login when given, as the engine would make it. */
export function adapterFor<R extends { type: string }>(factory: (ctx: ReturnType<typeof adapterContext<R>>) => TargetAdapter, resource: R, admin?: Credential, timeoutMs = 5_000): TargetAdapter {
  return factory(adapterContext(resource, admin ? { admin } : {}, { timeoutMs }));
}

/** An independent proof: ssh2's Client logs in (SSH authentication is the device's own check) and sees the prompt. */
export async function sshLoginWorks(port: number, username: string, password: string, prompt: RegExp): Promise<boolean> {
  let conv;
  try {
    conv = await sshShell(port, { username, password });
  } catch {
    return false;
  }
  try {
    await conv.expect(prompt);
    return true;
  } finally {
    conv.end();
  }
}

/** The simulator's open sessions once the ones just ended have been noticed (up to 2 s). */
export async function openAfterSettling(sim: DeviceSimulator): Promise<number> {
  const deadline = Date.now() + 2_000;
  while (sim.openSessions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return sim.openSessions();
}
