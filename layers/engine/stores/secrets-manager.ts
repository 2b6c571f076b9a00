import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError, NotFoundError } from '../errors.js';
import { patientClient } from '../patience.js';
import { Secret } from '../secret.js';
import { AWSCURRENT, AWSPENDING, type CredentialStore, type SecretVersionInfo, keptLabel } from './types.js';
import type { WriteBudget } from './write-budget.js';

export interface SecretsManagerStoreOptions {
  readonly client: SecretsManagerClient;
  /**
   * Paces PutSecretValue and UpdateSecretVersionStage (Secrets Manager's 50-per-second write
   * quota, shared by the whole account and region): every attempt of such a write takes a slot
   * first. Default: none (the writes go as fast as they are made, and throttles are retried).
   */
  readonly writeBudget?: WriteBudget;
  /**
   * Delete secrets at once instead of after Secrets Manager's recovery window (30 days).
   * Default false: a deleted credential can be restored.
   */
  readonly forceDelete?: boolean;
}

/**
 * Credentials in AWS Secrets Manager, with its own version ids and staging labels.
 * Errors name secret ids and version ids, never a value: the SDK's errors carry the
 * service's message, which never repeats a request's SecretString.
 *
 * Every call is patient (see patience.ts): a throttled one is retried until the account's time
 * is up, which every call here allows since each is idempotent. A reset costs two writes: the
 * pending version, and one label move that promotes it.
 */
export class SecretsManagerStore implements CredentialStore {
  readonly #client: Pick<SecretsManagerClient, 'send'>;
  readonly #forceDelete: boolean;

  constructor(options: SecretsManagerStoreOptions) {
    const budget = options.writeBudget;
    this.#client = patientClient(
      options.client,
      budget ? async (command, deadline) => (isWrite(command) ? budget.take(deadline) : undefined) : undefined,
    );
    this.#forceDelete = options.forceDelete ?? false;
  }

  async createSecret(
    name: string,
    value: Secret,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<string> {
    try {
      const created = await this.#client.send(
        new CreateSecretCommand({
          Name: name,
          // Fixed here, not by the SDK at each send: a retry whose first answer was lost is then the same request.
          ClientRequestToken: randomUUID(),
          SecretString: value.reveal(),
          Description: options.description,
          Tags: options.tags ? Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
        }),
      );
      if (!created.ARN) throw new Error(`Secrets Manager returned no ARN for ${name}`);
      return created.ARN;
    } catch (e) {
      if (errorName(e) === 'ResourceExistsException') {
        throw new InvalidConfigurationError('name', `secret ${name} already exists`, { cause: e });
      }
      throw e;
    }
  }

  async getValue(secretId: string, selector: { versionId?: string; stage?: string } = {}): Promise<{ versionId: string; value: Secret; stages: readonly string[] }> {
    const stage = selector.stage ?? (selector.versionId === undefined ? AWSCURRENT : undefined);
    const what = describeSelector(selector.versionId, stage);
    const got = await this.#send(secretId, what, () =>
      this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: selector.versionId, VersionStage: stage })),
    );
    if (got.SecretString === undefined || got.VersionId === undefined) {
      throw new InvalidConfigurationError('secretId', `secret ${secretId} (${what}) holds a binary value, not a password`);
    }
    return { versionId: got.VersionId, value: new Secret(got.SecretString), stages: got.VersionStages ?? [] };
  }

  /**
   * Versions that carry a staging label, from DescribeSecret (whose quota is 10,000 a second;
   * ListSecretVersionIds has 50). Versions without a label are left out, as AWS leaves them out.
   */
  async listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    return Object.entries(await this.#stages(secretId)).map(([versionId, stages]) => ({ versionId, stages }));
  }

  /**
   * Looks the version up first: AWS refuses a repeated token with a different value
   * (ResourceExistsException), but moto overwrites the stored value, and the contract is
   * that the first stored value is kept.
   */
  async putPending(secretId: string, versionId: string, value: Secret): Promise<boolean> {
    if (await this.#versionExists(secretId, versionId)) return false;
    try {
      await this.#send(secretId, `version ${versionId}`, () =>
        this.#client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: versionId,
            SecretString: value.reveal(),
            VersionStages: [AWSPENDING],
          }),
        ),
      );
      return true;
    } catch (e) {
      // A concurrent put with the same token got there first; its value is kept.
      if (errorName(e) !== 'ResourceExistsException') throw e;
      return false;
    }
  }

  /**
   * Moves AWSCURRENT to `versionId` in one UpdateSecretVersionStage (Secrets Manager itself
   * moves AWSPREVIOUS to the version AWSCURRENT left). AWSPENDING stays on the promoted version:
   * Secrets Manager reads AWSPENDING beside AWSCURRENT as a finished rotation, the engine reads a
   * version holding AWSCURRENT as current whatever else it holds, and the next putPending moves
   * the label on; removing it would cost a second write for nothing. Reads the labels first
   * (unless the caller says which version is current) so a repeated promote changes nothing:
   * moto, asked to move AWSCURRENT onto the version that already holds it, strips AWSPREVIOUS
   * from the previous version.
   */
  async promote(secretId: string, versionId: string, options: { current?: string } = {}): Promise<void> {
    const current = options.current ?? holderOf(await this.#stages(secretId), AWSCURRENT);
    if (current === versionId) return;
    try {
      await this.#updateStage(secretId, versionId, {
        VersionStage: AWSCURRENT,
        MoveToVersionId: versionId,
        ...(current !== undefined ? { RemoveFromVersionId: current } : {}),
      });
    } catch (e) {
      if (errorName(e) !== 'InvalidParameterException') throw e;
      // A concurrent promote of the same version (or a retry whose first answer was lost) moved the label first: the outcome we wanted.
      if ((await this.#stages(secretId))[versionId]?.includes(AWSCURRENT)) return;
      // The caller's idea of the current version was stale: read the labels and try again.
      if (options.current !== undefined) return this.promote(secretId, versionId);
      throw e;
    }
  }

  async discardPending(secretId: string, versionId: string): Promise<void> {
    const stages = await this.#stages(secretId);
    if (stages[versionId]?.includes(AWSPENDING)) {
      await this.#removeStage(secretId, versionId, AWSPENDING);
    }
  }

  async keep(secretId: string, versionId: string): Promise<string> {
    const label = keptLabel(versionId);
    const stages = (await this.#stages(secretId))[versionId] ?? [];
    // Labelled first, so the version is never without a label (Secrets Manager deletes such versions).
    if (!stages.includes(label)) await this.#updateStage(secretId, versionId, { VersionStage: label, MoveToVersionId: versionId });
    if (stages.includes(AWSPENDING)) await this.#removeStage(secretId, versionId, AWSPENDING);
    return label;
  }

  async release(secretId: string, versionId: string): Promise<void> {
    const label = keptLabel(versionId);
    if ((await this.#stages(secretId))[versionId]?.includes(label)) await this.#removeStage(secretId, versionId, label);
  }

  async deleteSecret(secretId: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteSecretCommand(
          this.#forceDelete ? { SecretId: secretId, ForceDeleteWithoutRecovery: true } : { SecretId: secretId },
        ),
      );
    } catch (e) {
      const name = errorName(e);
      // Already gone, or already scheduled for deletion.
      if (name === 'ResourceNotFoundException' || name === 'InvalidRequestException') return;
      throw e;
    }
  }

  async #versionExists(secretId: string, versionId: string): Promise<boolean> {
    try {
      await this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }));
      return true;
    } catch (e) {
      if (errorName(e) !== 'ResourceNotFoundException') throw mapError(e, secretId, `version ${versionId}`);
      // Missing version, or missing secret: PutSecretValue tells the two apart.
      return false;
    }
  }

  /** Version id → stages, for the versions that carry any. */
  async #stages(secretId: string): Promise<Record<string, string[]>> {
    const described = await this.#send(secretId, 'labels', () => this.#client.send(new DescribeSecretCommand({ SecretId: secretId })));
    return Object.fromEntries(Object.entries(described.VersionIdsToStages ?? {}).filter(([, stages]) => stages.length > 0));
  }

  async #removeStage(secretId: string, versionId: string, stage: string): Promise<void> {
    try {
      await this.#updateStage(secretId, versionId, { VersionStage: stage, RemoveFromVersionId: versionId });
    } catch (e) {
      // Removed by a concurrent call since we read the labels: the outcome we wanted.
      if (errorName(e) === 'InvalidParameterException' && !(await this.#stages(secretId))[versionId]?.includes(stage)) return;
      throw e;
    }
  }

  async #updateStage(
    secretId: string,
    versionId: string,
    input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string },
  ): Promise<void> {
    await this.#send(secretId, `version ${versionId}`, () =>
      this.#client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, ...input })),
    );
  }

  async #send<T>(secretId: string, what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw mapError(e, secretId, what);
    }
  }
}

function mapError(e: unknown, secretId: string, what: string): unknown {
  const name = errorName(e);
  if (name === 'ResourceNotFoundException') {
    return new NotFoundError('secretId', `secret ${secretId} (${what}) was not found`, { cause: e });
  }
  if (name === 'InvalidRequestException' && e instanceof Error && /marked for deletion/i.test(e.message)) {
    return new NotFoundError('secretId', `secret ${secretId} is scheduled for deletion`, { cause: e });
  }
  if (name === 'InvalidParameterException' && e instanceof Error && /not a valid version/i.test(e.message)) {
    return new NotFoundError('secretId', `secret ${secretId} has no ${what}`, { cause: e });
  }
  return e;
}

function holderOf(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes(stage))?.[0];
}

function describeSelector(versionId: string | undefined, stage: string | undefined): string {
  return [versionId !== undefined ? `version ${versionId}` : undefined, stage !== undefined ? `stage ${stage}` : undefined]
    .filter(Boolean)
    .join(', ');
}

/** The commands that count against Secrets Manager's write quota. */
function isWrite(command: unknown): boolean {
  return command instanceof PutSecretValueCommand || command instanceof UpdateSecretVersionStageCommand;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : '';
}
