import type { Account } from '../../engine/account.js';
import type { ChangeResult, Credential } from '../../engine/adapter.js';
import type { Log } from '../../engine/log.js';
import type { Secret } from '../../engine/secret.js';
import type { DeviceDialect, DeviceSession } from '../../expect/device.js';
import type { LegacySshAlgorithms } from '../../engine/ssh-algorithms.js';
import type { ResourceType } from '../common.js';

/** What every device and service-processor resource has, whatever its type. */
export interface DeviceResource {
  readonly id: string;
  readonly type: ResourceType;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'ssh' | 'telnet';
  readonly hostKeySha256?: string | undefined;
  readonly sshAlgorithms?: LegacySshAlgorithms | undefined;
  /** Save the running configuration after a change known to have succeeded (types with a save step). */
  readonly copyToStartup?: boolean | undefined;
}

/**
 * A login into the device's command line: the SSH user name (SSH always sends one; a device whose
 * login is a line password ignores it), what is typed at the device's own prompts, and the
 * enable password the session then needs for privileged mode.
 */
export interface DeviceLoginPlan {
  /** Sessions with the same key are one session, reused for every account that asks for it ("admin"). */
  readonly key: string;
  /** The SSH user name. */
  readonly sshUsername: string;
  /** What answers the device's Username: prompt; undefined for a login with the password alone. */
  readonly username: string | undefined;
  readonly password: Secret;
  /** `enable` with this (or without a password when null) once logged in; undefined: stay as logged in. */
  readonly enable?: Secret | null;
  /**
   * A command that leaves privileged mode before `enable` (IOS `disable`), for a proof of an
   * enable password: a login that lands privileged would otherwise never type it.
   */
  readonly reenable?: string;
}

/** One account's change, on a session the adapter opened as `DeviceDriver.sessionFor` asked. */
export interface DeviceChange<R> {
  readonly resource: R;
  readonly account: Account;
  readonly newPassword: Secret;
  readonly currentPassword?: Secret | undefined;
  readonly session: DeviceSession;
  readonly credentials: Readonly<Record<string, Credential>>;
  readonly log: Log;
}

/**
 * One vendor's CLI, mostly data: the dialect the session speaks, which login opens the session
 * that changes an account, the change itself, and how a password is proven. The adapter
 * (adapter.ts) owns connections, sessions, the save step, ordering and errors; a driver only says
 * what to type. Each driver's file header cites the vendor documentation it follows.
 */
export interface DeviceDriver<R extends DeviceResource> {
  readonly type: ResourceType;
  dialect(resource: R): DeviceDialect;
  /**
   * The login whose session changes `account`: the resource's admin login (key "admin") or, where
   * the account changes its own password, the account itself with its current password.
   * Throws InvalidConfigurationError when a login it needs has no credential.
   */
  sessionFor(resource: R, account: Account, credentials: Readonly<Record<string, Credential>>, currentPassword: Secret | undefined): DeviceLoginPlan;
  /** Changes the password; the session is logged in (and enabled) as sessionFor said. */
  change(op: DeviceChange<R>): Promise<ChangeResult>;
  /**
   * How `password` is proven for `account`: a fresh login as it (with or without a user name), or
   * the admin's login followed by `enable` with it (an enable secret). Key is ignored here.
   */
  proof(resource: R, account: Account, password: Secret, credentials: Readonly<Record<string, Credential>>): DeviceLoginPlan;
  /** Whether the type has a save step the adapter runs after a change when `copyToStartup` is on. */
  readonly saves: boolean;
}
