import type { AdapterFactory, ChangeRequest, PreflightFinding, TargetAdapter, Verification, VerifyRequest } from '../../layers/engine/adapter.js';
import { AuthenticationError, OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../layers/engine/errors.js';
import type { ResourceType } from '../../layers/resources/common.js';

export type Fault =
  /** The connection drops before the change is sent: nothing changes. */
  | 'drop-before'
  /** The change is applied, then the connection drops before the answer. */
  | 'drop-after-applied'
  /** The connection drops after the command was sent, and the target did not apply it. */
  | 'drop-after-lost'
  /** The target applies something else (neither stored password works afterwards). */
  | 'scramble'
  /** The change is applied, and no answer ever comes (the invocation is cut off at its timeout). */
  | 'hang-after-applied';

/**
 * An in-process target system for engine tests and benchmarks: user name -> password,
 * with counters and one-shot faults. Behaves like a real adapter's contract, not a real server.
 */
export class MemoryTarget {
  readonly passwords = new Map<string, string>();
  /** Changes per user name. */
  readonly changesOf = new Map<string, number>();
  /** Each change takes this long (a slow target), in ms. Default 0. */
  changeDelayMs = 0;
  changes = 0;
  verifies = 0;
  connections = 0;
  faults: Fault[] = [];
  /** Every change and verify, in order: `change alice`, `verify alice`. */
  readonly calls: string[] = [];
  /** Logins the admin must use; a wrong one makes change fail with AuthenticationError. */
  adminPassword?: string;
  /** Failed logons that lock an account (reported to the protocol through `lockout`); unset: the target does not lock. */
  lockoutThreshold?: number;
  /** Failed logons per user name since the last good one. */
  readonly failedLogons = new Map<string, number>();
  /** How the adapter proves a password; with `none`, a verify is a defect of the caller and fails the test. */
  verification: Verification = 'login';
  /** Declared to the protocol: the same change sent again is harmless (IAM's UpdateLoginProfile). */
  repeatableChange = false;
  /** The findings the adapter's preflight (a dry run's checks) returns; unset: the adapter has no preflight. */
  preflightFindings?: PreflightFinding[];
  /** When the target says each user's password was last set (drift, as AD's pwdLastSet); unset: the adapter cannot tell. */
  passwordSetAt?: Map<string, Date>;
  /** No connection can be made: every operation fails with TargetTimeoutError, before anything is sent. */
  unreachable = false;

  adapter(type: ResourceType = 'linux'): AdapterFactory<unknown> {
    const target = this as MemoryTarget;
    return (ctx) => {
      let connected = false;
      const adapter: TargetAdapter = {
        type,
        verification: target.verification,
        ...(target.repeatableChange ? { repeatableChange: true } : {}),
        async change(req: ChangeRequest) {
          target.#reach();
          if (!connected) {
            target.connections++;
            connected = true;
          }
          const admin = ctx.credentials.admin ?? ctx.credentials.login;
          if (target.adminPassword !== undefined && admin?.password?.reveal() !== target.adminPassword) {
            throw new AuthenticationError(`login refused for ${admin?.username}`);
          }
          target.changes++;
          target.calls.push(`change ${req.account.username}`);
          target.changesOf.set(req.account.username, (target.changesOf.get(req.account.username) ?? 0) + 1);
          if (target.changeDelayMs) await new Promise((r) => setTimeout(r, target.changeDelayMs));
          const fault = target.faults.shift();
          if (fault === 'drop-before') throw new TargetUnchangedError('connection closed before the change was sent');
          if (fault === 'drop-after-lost') throw new OutcomeUnknownError('connection closed after the change was sent');
          if (fault === 'scramble') {
            target.passwords.set(req.account.username, `scrambled-${Math.random()}`);
            throw new OutcomeUnknownError('connection closed after the change was sent');
          }
          target.passwords.set(req.account.username, req.newPassword.reveal());
          if (fault === 'hang-after-applied') return new Promise(() => undefined);
          if (fault === 'drop-after-applied') throw new OutcomeUnknownError('connection closed after the change was sent');
          return { method: 'admin reset' };
        },
        async verify(req: VerifyRequest) {
          if (target.verification === 'none') throw new Error(`verify called on a target that cannot prove a password (${req.account.username})`);
          target.#reach();
          target.verifies++;
          target.calls.push(`verify ${req.account.username}`);
          const valid = target.passwords.get(req.account.username) === req.password.reveal();
          target.failedLogons.set(req.account.username, valid ? 0 : (target.failedLogons.get(req.account.username) ?? 0) + 1);
          return { valid };
        },
        ...(target.lockoutThreshold === undefined
          ? {}
          : { lockout: async (account) => ({ threshold: target.lockoutThreshold!, failedLogons: target.failedLogons.get(account.username) ?? 0 }) }),
        ...(target.preflightFindings === undefined
          ? {}
          : {
              preflight: async () => {
                target.#reach();
                target.calls.push('preflight');
                return target.preflightFindings!;
              },
            }),
        ...(target.passwordSetAt === undefined ? {} : { passwordLastSet: async (account) => target.passwordSetAt!.get(account.username) }),
        async close() {
          connected = false;
        },
      };
      return adapter;
    };
  }

  #reach(): void {
    if (this.unreachable) throw new TargetTimeoutError('connect ETIMEDOUT: the target did not answer');
  }
}
