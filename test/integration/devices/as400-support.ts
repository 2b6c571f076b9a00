// Helpers for the as400 driver's tests on the simulated IBM i (test/simulators/device/ibm-i.ts).
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import type { Account } from '../../../layers/engine/account.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createDeviceAdapter } from '../../../layers/resources/network-device/adapter.js';
import { as400Driver } from '../../../layers/resources/service-processor/as400-driver.js';
import { serviceProcessorSchema, type ServiceProcessorResource } from '../../../layers/resources/service-processor/schema.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { DeviceSimulator } from '../../simulators/device/index.js';
import { sshAuthenticates } from '../../support/ssh-login.js';

export const RESOURCE_ID = 'ibmi-test';

export function as400Resource(sim: DeviceSimulator, over: Record<string, unknown> = {}): ServiceProcessorResource {
  return serviceProcessorSchema('as400').parse({ id: RESOURCE_ID, type: 'as400', host: sim.host, port: sim.sshPort, protocol: 'ssh', ...over });
}

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string): Credential {
  return { accountId: `${RESOURCE_ID}/${username}`, username, password: new Secret(password) };
}

export function as400Adapter(r: ServiceProcessorResource, credentials: Record<string, Credential> = {}, timeoutMs = 5_000): TargetAdapter {
  return createDeviceAdapter(as400Driver)(adapterContext(r, credentials, { timeoutMs }));
}

/** Whether a fresh SSH login with this name and password is accepted: ssh2's Client directly, not the adapter. */
export function sshLoginWorks(sim: DeviceSimulator, username: string, password: string): Promise<boolean> {
  return sshAuthenticates({ host: sim.host, port: sim.sshPort }, username, password);
}
