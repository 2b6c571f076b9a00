import { randomBytes } from 'node:crypto';
import type { AdapterContext } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createGoogleWorkspaceAdapter, jwtClientHook } from '../../../layers/resources/google-workspace/adapter.js';
import type { GoogleWorkspaceResource } from '../../../layers/resources/google-workspace/schema.js';
import { parseResource } from '../../../layers/resources/registry.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { bridgeTokenUrl, startGoogleSimulator, type GoogleSimulator, type ServiceAccount } from '../../simulators/https/google.js';

export { jwtClientHook };

/** A simulator with the token URL bridged to it (the test-only bridge, see bridgeTokenUrl). */
export async function googleSimulator(options: Parameters<typeof startGoogleSimulator>[0] = {}): Promise<GoogleSimulator & { unbridge: () => void }> {
  const sim = await startGoogleSimulator(options);
  const unbridge = bridgeTokenUrl(jwtClientHook, sim.origin);
  return Object.assign(sim, { unbridge });
}

export function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@rpr.example.com`;
}

export function resource(sim: GoogleSimulator, adminEmail: string, extra: Record<string, unknown> = {}): GoogleWorkspaceResource {
  return parseResource({ id: 'gws', type: 'google-workspace', host: sim.host, port: sim.port, adminEmail, serviceAccountKeySecretId: 'rpr/google/sa-key', ...extra }) as GoogleWorkspaceResource;
}

export function context(r: GoogleWorkspaceResource, key: ServiceAccount | string, timeoutMs = 5_000): AdapterContext<GoogleWorkspaceResource> {
  const keyFile = new Secret(typeof key === 'string' ? key : key.keyFile);
  const ctx = adapterContext(r, {}, { secrets: [keyFile], timeoutMs });
  return { ...ctx, secrets: { serviceAccountKey: keyFile } };
}

export function adapterFor(sim: GoogleSimulator, adminEmail: string, key: ServiceAccount | string, extra: Record<string, unknown> = {}) {
  return createGoogleWorkspaceAdapter(context(resource(sim, adminEmail, extra), key));
}

/** A fresh password within Google's rules. */
export function password(label: string): string {
  return `${label}-${randomBytes(6).toString('base64url')}-Aa1!`;
}
