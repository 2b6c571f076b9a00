import type { HostKeyTrust } from './adapter.js';
import type { Log } from './log.js';
import type { HostKeyStore } from './stores/types.js';

/**
 * A resource's SSH host key trusted on first use, backed by the state store. The fingerprint is
 * read once per session (a group): every later connection of the group, each fresh login of
 * `verify` included, is checked against the same one without another read.
 */
export function trustOnFirstUse(store: HostKeyStore, resourceId: string, log: Log, now: () => Date = () => new Date()): HostKeyTrust {
  let known: string | undefined;
  return {
    async trusted() {
      known ??= (await store.getHostKey(resourceId))?.sha256;
      return known;
    },
    async firstSeen(sha256, seen = {}) {
      const held = await store.recordHostKey(
        { resourceId, sha256, ...(seen.keyType ? { keyType: seen.keyType } : {}), ...(seen.at ? { seenAt: seen.at } : {}), source: 'first-use', recordedAt: now().toISOString() },
        undefined,
      );
      known = held.sha256;
      if (held.sha256 === sha256) log.info('ssh: first host key of the resource recorded (trust on first use)', { hostKeySha256: sha256, keyType: seen.keyType, host: seen.at });
      return held.sha256;
    },
  };
}
