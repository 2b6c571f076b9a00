// Helpers for the cisco-ios driver's tests: a simulated IOS device (test/simulators/device/cisco-ios.ts),
// resources parsed by the type's schema, and the device adapter with the context the engine gives it.
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { AdapterContext, Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { ciscoIosDriver } from '../../../layers/resources/cisco/cisco-ios-driver.js';
import { ciscoSchema, type CiscoResource } from '../../../layers/resources/cisco/schema.js';
import { createDeviceAdapter } from '../../../layers/resources/network-device/adapter.js';
import { ciscoIos, type CiscoIos, type CiscoIosOptions } from '../../simulators/device/cisco-ios.js';
import { startDeviceSimulator, type DeviceSimulator, type DeviceSimulatorOptions } from '../../simulators/device/index.js';

export const RESOURCE_ID = 'ios-test';

export interface IosDevice {
  readonly ios: CiscoIos;
  readonly sim: DeviceSimulator;
}

/** An IOS device running `setup` (configuration lines; they must print nothing). */
export async function iosDevice(setup: string, options: CiscoIosOptions & DeviceSimulatorOptions = {}): Promise<IosDevice> {
  const ios = ciscoIos({ hostname: 'R1', ...options });
  const printed = ios.configure(setup);
  if (printed !== '') throw new Error(`the IOS set-up printed: ${printed}`);
  const sim = await startDeviceSimulator(ios, { legacySsh: options.legacySsh ?? false });
  return { ios, sim };
}

export function iosResource(d: IosDevice, over: Record<string, unknown> = {}): CiscoResource {
  const telnet = over.protocol === 'telnet';
  return ciscoSchema('cisco-ios').parse({
    id: RESOURCE_ID,
    type: 'cisco-ios',
    host: d.sim.host,
    port: telnet ? d.sim.telnetPort : d.sim.sshPort,
    protocol: 'ssh',
    loginAccount: `${RESOURCE_ID}/admin`,
    ...over,
  });
}

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `${RESOURCE_ID}/${username}`, username, password: new Secret(password) };
}

/** The adapter as the engine opens it; `debug`: its log writes DEBUG lines (to stdout, for captureOutput). */
export function iosAdapter(r: CiscoResource, credentials: Record<string, Credential>, options: { debug?: boolean; timeoutMs?: number } = {}): { adapter: TargetAdapter; ctx: AdapterContext<CiscoResource> } {
  const base = adapterContext(r, credentials, { timeoutMs: options.timeoutMs ?? 5_000 });
  const ctx: AdapterContext<CiscoResource> = options.debug ? { ...base, log: new Log({ level: 'DEBUG', redactor: base.redactor }) } : base;
  return { adapter: createDeviceAdapter(ciscoIosDriver)(ctx), ctx };
}
