import type { AccessKeyMetadata } from '@aws-sdk/client-iam';
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, GetAccessKeyLastUsedCommand, GetCallerIdentityCommand, ListAccessKeysCommand, STSClient, UpdateAccessKeyCommand } from '../../engine/aws-clients.js';
import type { Account } from '../../engine/account.js';
import type { AdapterContext, ChangeRequest, ChangeResult, IssueRequest, PreflightFinding, PreflightRequest, TargetAdapter, VerifyRequest, VerifyResult } from '../../engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import { clientConfig, keyPairOf, type AwsIamAdapterOptions, type IamAdmin, type KeyPair } from './admin.js';
import { codeOf } from './calls.js';
import { awsIamDefinition, type AwsIamResource } from './schema.js';

/**
 * IAM access key rotation (`manages: access-key`): the account's secret holds the user's key pair
 * `{"accessKeyId", "secretAccessKey"}`, and a reset replaces it with a new one that IAM issues.
 *
 * IAM makes the secret (nobody can choose it), so this adapter issues instead of taking a
 * password (`TargetAdapter.issue`): create calls `CreateAccessKey` and the engine stores the pair
 * as pending at once (a pair that cannot be stored is deleted again: nobody could read it); the
 * old key keeps working all along. set confirms the new key is on the user and active; test calls
 * `sts:GetCallerIdentity` signed with it, as the user, on a fresh client, waiting out IAM's
 * propagation (a key minutes old may be refused for a while: IAM is eventually consistent, IAM
 * User Guide, "Troubleshoot IAM: changes I make are not always immediately visible"); finish
 * promotes it and deactivates the old key, which the first reset after `oldKeyGraceDays` deletes
 * (at once with 0).
 *
 * IAM allows two access keys per user (IAM User Guide, "IAM and AWS STS quotas": access keys per
 * user, 2). Before a new key is made for a user who holds two, the one that is not the secret's
 * current key is looked at, and the current key is never removed:
 * - the secret's previous key (the one the last rotation replaced): deleted once its grace period
 *   is over (counted from the current key's creation, when it was replaced), else the reset is
 *   refused, unchanged, naming the day;
 * - a key rpr never stored that was never used (`GetAccessKeyLastUsed` shows no use): an
 *   interrupted rotation's key (issued, never stored), or one nobody uses: deleted;
 * - any other key (used, and not the secret's): the reset is refused, unchanged, naming it.
 *
 * The admin needs `iam:ListAccessKeys`, `iam:CreateAccessKey`, `iam:UpdateAccessKey`,
 * `iam:DeleteAccessKey` and `iam:GetAccessKeyLastUsed` on the users; `sts:GetCallerIdentity`
 * needs no permission.
 */

const DAY_MS = 86_400_000;
const DEFAULT_GRACE_DAYS = 7;
const DEFAULT_PROPAGATION_MS = 30_000;
/** The first pause between GetCallerIdentity attempts with a new key; doubled up to the window. */
const FIRST_PAUSE_MS = 500;

export class AwsIamAccessKeyAdapter implements TargetAdapter {
  readonly type = 'aws-iam' as const;
  readonly verification = 'login' as const;
  readonly #ctx: AdapterContext<AwsIamResource>;
  readonly #admin: IamAdmin;
  readonly #now: () => Date;
  readonly #propagationMs: number;
  readonly #graceDays: number;

  constructor(ctx: AdapterContext<AwsIamResource>, admin: IamAdmin, options: AwsIamAdapterOptions) {
    this.#ctx = ctx;
    this.#admin = admin;
    this.#now = options.now ?? (() => new Date());
    this.#propagationMs = options.keyPropagationMs ?? DEFAULT_PROPAGATION_MS;
    this.#graceDays = ctx.resource.oldKeyGraceDays ?? DEFAULT_GRACE_DAYS;
  }

  /** An account's key pair; its secret part is redacted wherever it appears on its own. */
  #pair(secret: Secret): KeyPair {
    const pair = keyPairOf(secret, 'secretId');
    this.#ctx.redactor.add(new Secret(pair.secretAccessKey));
    return pair;
  }

  #username(account: Account): string {
    const name = awsIamDefinition.username.safeParse(account.username);
    if (!name.success) throw new InvalidConfigurationError('account.username', name.error.issues[0]?.message ?? 'is not an IAM user name');
    return name.data;
  }

  async #keys(username: string): Promise<AccessKeyMetadata[]> {
    const out = await this.#admin.call(`listing the access keys of ${username}`, false, () => this.#admin.iam.send(new ListAccessKeysCommand({ UserName: username })));
    return out.AccessKeyMetadata ?? [];
  }

  async #delete(username: string, keyId: string, why: string): Promise<void> {
    try {
      await this.#admin.call(`deleting access key ${keyId} of ${username}`, true, () => this.#admin.iam.send(new DeleteAccessKeyCommand({ UserName: username, AccessKeyId: keyId })));
    } catch (e) {
      // Already gone: what was wanted.
      if (!(e instanceof TargetUnchangedError && codeOf(e.cause) === 'NoSuchEntity')) throw e;
    }
    this.#ctx.log.info('aws-iam: deleted an access key', { username, accessKeyId: keyId, why });
  }

  /**
   * Makes room for a new key if the user holds two, by the rules in the header; never removes
   * the current key. Throws TargetUnchangedError when a key stands in the way.
   */
  async #makeRoom(username: string, keys: AccessKeyMetadata[], currentId: string | undefined, previousId: string | undefined): Promise<void> {
    let held = keys.length;
    const current = keys.find((k) => k.AccessKeyId === currentId);
    for (const other of keys) {
      if (held < 2) return;
      const id = other.AccessKeyId!;
      if (id === currentId) continue;
      if (id === previousId) {
        const replaced = current?.CreateDate ?? other.CreateDate ?? this.#now();
        const graceEnds = new Date(replaced.getTime() + this.#graceDays * DAY_MS);
        if (this.#now() < graceEnds) {
          throw new TargetUnchangedError(
            `${username} holds two access keys, the current one and the previous one (${id}), which stays until ${graceEnds.toISOString()} (oldKeyGraceDays ${this.#graceDays}); IAM allows two; nothing was changed: rotate after that, or lower oldKeyGraceDays`,
          );
        }
        await this.#delete(username, id, 'the previous key, past its grace period');
      } else {
        const used = await this.#admin.call(`reading when access key ${id} was last used`, false, () => this.#admin.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id })));
        const last = used.AccessKeyLastUsed?.LastUsedDate;
        if (last) {
          throw new TargetUnchangedError(
            `${username} holds two access keys and ${id} is neither the secret's current nor its previous key (last used ${last.toISOString()}); IAM allows two; nothing was changed: delete or deactivate it, or store it in the account's secret`,
          );
        }
        await this.#delete(username, id, 'never used and not stored by rpr (an interrupted rotation\'s key, or one nobody uses)');
      }
      held--;
    }
    if (held >= 2) throw new TargetUnchangedError(`${username} holds two access keys and neither could be removed; nothing was changed`);
  }

  async issue(req: IssueRequest): Promise<Secret> {
    const username = this.#username(req.account);
    const currentId = req.current ? this.#pair(req.current).accessKeyId : undefined;
    // A previous value that is not a key pair (the secret held something else once) names no key.
    const previousId = req.previous ? safely(() => this.#pair(req.previous!).accessKeyId) : undefined;
    const keys = await this.#keys(username);
    if (currentId !== undefined && !keys.some((k) => k.AccessKeyId === currentId)) {
      this.#ctx.log.warn('aws-iam: the secret\'s current access key is not one of the user\'s keys; a new one is issued all the same', { username, accessKeyId: currentId });
    }
    await this.#makeRoom(username, keys, currentId, previousId);
    let out;
    try {
      out = await this.#admin.call(`creating an access key for ${username}`, true, () => this.#admin.iam.send(new CreateAccessKeyCommand({ UserName: username })));
    } catch (e) {
      if (!(e instanceof ResetError) || !e.targetMayHaveChanged) throw e;
      // The current key still works either way; a key made but never seen is never used, so the next reset deletes it.
      throw new TargetUnchangedError(`${e.message}; the current key still works; a key IAM may have made is never stored and is deleted by the next reset`, { cause: e });
    }
    const k = out.AccessKey;
    if (!k?.AccessKeyId || !k.SecretAccessKey) throw new TargetUnchangedError(`creating an access key for ${username}: IAM answered without one; the current key still works`);
    this.#ctx.redactor.add(new Secret(k.SecretAccessKey));
    return new Secret(JSON.stringify({ accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey }));
  }

  /** set: the issued key is already on the user; this confirms it is there and active. */
  async change(req: ChangeRequest): Promise<ChangeResult> {
    const username = this.#username(req.account);
    const { accessKeyId } = this.#pair(req.newPassword);
    const key = (await this.#keys(username)).find((k) => k.AccessKeyId === accessKeyId);
    if (!key) throw new TargetUnchangedError(`the new access key ${accessKeyId} is no longer one of ${username}'s keys (deleted meanwhile?); nothing was changed`);
    if (key.Status !== 'Active') throw new TargetUnchangedError(`the new access key ${accessKeyId} of ${username} was deactivated meanwhile; nothing was changed`);
    return { method: 'new access key (CreateAccessKey)' };
  }

  /**
   * A call as the user with the key (GetCallerIdentity) on a fresh client. A key IAM lists as
   * active but STS refuses is tried again while it is younger than the propagation window.
   */
  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const username = this.#username(req.account);
    const pair = this.#pair(req.password);
    const key = (await this.#keys(username)).find((k) => k.AccessKeyId === pair.accessKeyId);
    if (!key) return { valid: false, detail: `access key ${pair.accessKeyId} is not one of ${username}'s keys` };
    if (key.Status !== 'Active') return { valid: false, detail: `access key ${pair.accessKeyId} is inactive` };
    const r = this.#ctx.resource;
    const sts = new STSClient({ ...clientConfig(r, r.stsEndpoint, this.#ctx.timeoutMs), credentials: { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey } });
    try {
      for (let pause = FIRST_PAUSE_MS; ; pause *= 2) {
        try {
          const who = await this.#admin.call(`calling STS with access key ${pair.accessKeyId}`, false, () => sts.send(new GetCallerIdentityCommand({})));
          const arn = who.Arn ?? '';
          if (!arn.endsWith(`/${username}`) || !arn.includes(':user/')) return { valid: false, detail: `access key ${pair.accessKeyId} signs as ${arn}, not as ${username}` };
          return { valid: true, detail: `signed as ${arn}` };
        } catch (e) {
          // STS refused the key (calls.ts: InvalidClientTokenId and its kin): unknown to it yet, or wrong.
          if (!(e instanceof AuthenticationError)) throw e;
          const code = codeOf(e.cause);
          const age = this.#now().getTime() - (key.CreateDate?.getTime() ?? 0);
          if (age + pause > this.#propagationMs) return { valid: false, detail: `STS refuses access key ${pair.accessKeyId} (${code})` };
          this.#ctx.log.info('aws-iam: a new access key is not known to STS yet; waiting for IAM to propagate it', { accessKeyId: pair.accessKeyId, code, pauseMs: pause });
          await new Promise((done) => setTimeout(done, pause));
        }
      }
    } finally {
      sts.destroy();
    }
  }

  async revoke(req: { account: Account; credential: Secret }): Promise<void> {
    await this.#delete(this.#username(req.account), this.#pair(req.credential).accessKeyId, 'issued, then dropped by the engine');
  }

  /** finish: the replaced key is deactivated (deleted with oldKeyGraceDays 0). */
  async retire(req: { account: Account; previous: Secret; current: Secret }): Promise<string | undefined> {
    const username = this.#username(req.account);
    const previousId = safely(() => this.#pair(req.previous).accessKeyId);
    if (previousId === undefined || previousId === this.#pair(req.current).accessKeyId) return undefined;
    if (this.#graceDays === 0) {
      await this.#delete(username, previousId, 'replaced, with oldKeyGraceDays 0');
      return `the old access key ${previousId} was deleted`;
    }
    try {
      await this.#admin.call(`deactivating access key ${previousId} of ${username}`, true, () => this.#admin.iam.send(new UpdateAccessKeyCommand({ UserName: username, AccessKeyId: previousId, Status: 'Inactive' })));
    } catch (e) {
      if (e instanceof TargetUnchangedError && codeOf(e.cause) === 'NoSuchEntity') return `the old access key ${previousId} was already gone`;
      throw e;
    }
    return `the old access key ${previousId} was deactivated; the first reset after ${this.#graceDays} day(s) deletes it`;
  }

  /** A dry run: the admin can list each user's keys, and each has room for a new one or a key the rotation may remove. */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    const findings: PreflightFinding[] = [];
    for (const account of req.accounts) {
      const keys = await this.#keys(this.#username(account));
      if (keys.length < 2) {
        findings.push({ accountId: account.id, check: 'access keys', ok: true, detail: `holds ${keys.length} access key(s); IAM allows two` });
        continue;
      }
      const inactive = keys.filter((k) => k.Status !== 'Active').map((k) => k.AccessKeyId);
      findings.push({
        accountId: account.id,
        check: 'access keys',
        ok: inactive.length > 0,
        detail: inactive.length
          ? `holds two access keys; ${inactive.join(', ')} is inactive: deleted first if it is the previous key past its grace period or was never used`
          : 'holds two active access keys: a rotation goes ahead only if the one that is not current was never used',
      });
    }
    return findings;
  }

  close(): Promise<void> {
    this.#admin.close();
    return Promise.resolve();
  }
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
