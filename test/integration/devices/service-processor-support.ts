// What the service-processor driver tests share (hp-ilo, ilom, alom, xscf, and the simulator
// tests of those dialects): simulators served by the device core and stopped after each test, a
// resource of the type pointed at one, accounts and credentials, and the device adapter built as
// the engine builds it (adapterContext).
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { createDeviceAdapter } from '../../../layers/resources/network-device/adapter.js';
import type { DeviceDriver, DeviceResource } from '../../../layers/resources/network-device/driver.js';
import { serviceProcessorSchema, type ServiceProcessorResource, type ServiceProcessorType } from '../../../layers/resources/service-processor/schema.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import type { ServiceProcessor } from '../../simulators/device/service-processor.js';

export const RESOURCE_ID = 'sp-test';

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `${RESOURCE_ID}/${username}`, username, password: new Secret(password) };
}

/** Simulators started by a test file, stopped after each test. */
export class Simulators {
  readonly #running: DeviceSimulator[] = [];

  async start(sp: ServiceProcessor, options: { legacySsh?: boolean } = {}): Promise<DeviceSimulator> {
    const sim = await startDeviceSimulator(sp, options);
    this.#running.push(sim);
    return sim;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#running.splice(0).map((s) => s.stop()));
  }
}

export function spResource(type: ServiceProcessorType, sim: DeviceSimulator, over: Record<string, unknown> = {}): ServiceProcessorResource {
  const protocol = over.protocol ?? 'ssh';
  return serviceProcessorSchema(type).parse({ id: RESOURCE_ID, type, host: sim.host, port: protocol === 'ssh' ? sim.sshPort : sim.telnetPort, protocol, ...over });
}

/** The device adapter for `r` with these logins (`{ admin }`), as the engine would make it. */
export function spAdapter<R extends DeviceResource>(driver: DeviceDriver<R>, r: R, credentials: Record<string, Credential> = {}, timeoutMs = 5_000): TargetAdapter {
  return createDeviceAdapter(driver)(adapterContext(r, credentials, { timeoutMs }));
}

/** The rejection of a promise that must fail. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as Error,
  );
}

/** The simulator's open sessions once the ones just ended have been noticed (up to 2 s). */
export async function openAfterSettling(sim: DeviceSimulator): Promise<number> {
  const deadline = Date.now() + 2_000;
  while (sim.openSessions() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return sim.openSessions();
}
