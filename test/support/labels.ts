import { AWSCURRENT, AWSPENDING, type SecretVersionInfo } from '../../layers/engine/stores/types.js';

/**
 * The versions still pending: AWSPENDING without AWSCURRENT. Beside AWSCURRENT, AWSPENDING only
 * marks a finished reset (as Secrets Manager's rotation leaves it), and the next reset moves it.
 */
export function stillPending(versions: readonly SecretVersionInfo[]): SecretVersionInfo[] {
  return versions.filter((v) => v.stages.includes(AWSPENDING) && !v.stages.includes(AWSCURRENT));
}
