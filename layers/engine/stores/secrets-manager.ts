import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { InvalidConfigurationError, NotFoundError } from '../errors.js';
import { Secret } from '../secret.js';
import { AWSCURRENT, AWSPENDING, type CredentialStore, type SecretVersionInfo } from './types.js';

export interface SecretsManagerStoreOptions {
  readonly client: SecretsManagerClient;
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
 */
export class SecretsManagerStore implements CredentialStore {
  readonly #client: SecretsManagerClient;
  readonly #forceDelete: boolean;

  constructor(options: SecretsManagerStoreOptions) {
    this.#client = options.client;
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

  async getValue(secretId: string, selector: { versionId?: string; stage?: string } = {}): Promise<{ versionId: string; value: Secret }> {
    const stage = selector.stage ?? (selector.versionId === undefined ? AWSCURRENT : undefined);
    const what = describeSelector(selector.versionId, stage);
    const got = await this.#send(secretId, what, () =>
      this.#client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: selector.versionId, VersionStage: stage })),
    );
    if (got.SecretString === undefined || got.VersionId === undefined) {
      throw new InvalidConfigurationError('secretId', `secret ${secretId} (${what}) holds a binary value, not a password`);
    }
    return { versionId: got.VersionId, value: new Secret(got.SecretString) };
  }

  /**
   * Versions that carry a staging label. moto also lists versions without labels, which
   * AWS leaves out unless IncludeDeprecated is set, so they are filtered here.
   */
  async listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    const versions: SecretVersionInfo[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#send(secretId, 'versions', async () => {
        try {
          return await this.#client.send(new ListSecretVersionIdsCommand({ SecretId: secretId, MaxResults: 100, NextToken: nextToken }));
        } catch (e) {
          // moto answers ListSecretVersionIds for a missing secret with an HTML 500 page (AWS:
          // ResourceNotFoundException); DescribeSecret tells a missing secret apart.
          if (!isServiceError(e)) await this.#client.send(new DescribeSecretCommand({ SecretId: secretId }));
          throw e;
        }
      });
      for (const v of page.Versions ?? []) {
        if (v.VersionId && v.VersionStages && v.VersionStages.length > 0) {
          versions.push({ versionId: v.VersionId, stages: [...v.VersionStages] });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return versions;
  }

  /**
   * Looks the version up first: AWS refuses a repeated token with a different value
   * (ResourceExistsException), but moto overwrites the stored value, and the contract is
   * that the first stored value is kept.
   */
  async putPending(secretId: string, versionId: string, value: Secret): Promise<void> {
    if (await this.#versionExists(secretId, versionId)) return;
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
    } catch (e) {
      // A concurrent put with the same token got there first; its value is kept.
      if (errorName(e) !== 'ResourceExistsException') throw e;
    }
  }

  /**
   * Moves AWSCURRENT to `versionId` (Secrets Manager itself moves AWSPREVIOUS to the version
   * AWSCURRENT left), then removes AWSPENDING from it. Reads the labels first so a repeated
   * promote changes nothing: moto, asked to move AWSCURRENT onto the version that already
   * holds it, strips AWSPREVIOUS from the previous version.
   */
  async promote(secretId: string, versionId: string): Promise<void> {
    let stages = await this.#stages(secretId);
    const current = holderOf(stages, AWSCURRENT);
    if (current !== versionId) {
      try {
        await this.#updateStage(secretId, versionId, {
          VersionStage: AWSCURRENT,
          MoveToVersionId: versionId,
          ...(current !== undefined ? { RemoveFromVersionId: current } : {}),
        });
      } catch (e) {
        // A concurrent promote of the same version moved the label first: the outcome we wanted.
        if (errorName(e) !== 'InvalidParameterException' || !(await this.#stages(secretId))[versionId]?.includes(AWSCURRENT)) throw e;
      }
      stages = await this.#stages(secretId);
    }
    if (stages[versionId]?.includes(AWSPENDING)) {
      await this.#removeStage(secretId, versionId, AWSPENDING);
    }
  }

  async discardPending(secretId: string, versionId: string): Promise<void> {
    const stages = await this.#stages(secretId);
    if (stages[versionId]?.includes(AWSPENDING)) {
      await this.#removeStage(secretId, versionId, AWSPENDING);
    }
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
    return described.VersionIdsToStages ?? {};
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

/** An error the service answered with (it has a fault side), as opposed to a transport or parse failure. */
function isServiceError(e: unknown): boolean {
  return e instanceof Error && '$fault' in e;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : '';
}
