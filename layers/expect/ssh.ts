import { createHash } from 'node:crypto';
import ssh2, { type Algorithms, type AnyAuthMethod, type AuthenticationType, type ClientChannel, type ConnectConfig, type PseudoTtyOptions } from 'ssh2';
import type { HostKeyTrust } from '../engine/adapter.js';
import { AuthenticationError, HostKeyMismatchError, InvalidConfigurationError, isResetError, TargetTimeoutError, TargetUnchangedError, type ResetError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import type { Secret } from '../engine/secret.js';
import { LEGACY_SSH_ALGORITHMS, type LegacySshAlgorithmKind, type LegacySshAlgorithms } from '../engine/ssh-algorithms.js';
import type { CloseInfo, Stream, StreamHandlers } from './stream.js';

/**
 * Which host key an SSH login accepts, checked during the key exchange, before any password or
 * key is sent: the one pinned in the configuration, else the one recorded for the resource, else
 * (first use) the one presented, which is then recorded. Telnet has no host key: none of this
 * protects a Telnet login.
 */
export interface SshHostKeyCheck {
  /** The resource whose key it is, for the message that says how to accept a new one. */
  readonly resourceId: string;
  /** Pinned fingerprint from the configuration (`hostKeySha256`, base64, "=" optional): wins over the recorded one, and nothing is recorded. */
  readonly pinned?: string;
  /** The resource's recorded key, from the adapter's context. */
  readonly trust: HostKeyTrust;
}

/** The host key check for a resource whose configuration may pin `hostKeySha256`. */
export function hostKeyCheck(ctx: { readonly resource: { readonly id: string; readonly hostKeySha256?: string | undefined }; readonly hostKeys: HostKeyTrust }): SshHostKeyCheck {
  const pinned = ctx.resource.hostKeySha256;
  return { resourceId: ctx.resource.id, trust: ctx.hostKeys, ...(pinned ? { pinned } : {}) };
}

export interface SshLoginOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: Secret;
  /** PEM private key; used instead of the password when given. */
  readonly privateKey?: Secret;
  readonly hostKey: SshHostKeyCheck;
  readonly timeoutMs: number;
  readonly log?: Log;
  /**
   * Given (even `{}`): the device offer, ssh2's defaults minus every name in LEGACY_SSH_ALGORITHMS,
   * plus the legacy ones named here, appended (least preferred); a name outside that list is
   * InvalidConfigurationError('sshAlgorithms.<kind>'). Undefined: ssh2's full default offer, as
   * the Unix and Windows adapters have always made (it includes ssh-rsa and hmac-sha1).
   */
  readonly legacyAlgorithms?: LegacySshAlgorithms;
}

const KINDS = Object.keys(LEGACY_SSH_ALGORITHMS) as LegacySshAlgorithmKind[];

/**
 * What a device connection offers: ssh2's defaults without any legacy algorithm, then the legacy
 * ones the resource names. Validates the names (the configuration may hold anything).
 */
export function deviceAlgorithms(legacy: LegacySshAlgorithms): Algorithms {
  const out: Record<string, { remove: string[]; append: string[] }> = {};
  for (const kind of Object.keys(legacy)) {
    if (!(KINDS as string[]).includes(kind)) throw new InvalidConfigurationError(`sshAlgorithms.${kind}`, `is not a kind of SSH algorithm (kinds: ${KINDS.join(', ')})`);
  }
  for (const kind of KINDS) {
    const allowed: readonly string[] = LEGACY_SSH_ALGORITHMS[kind];
    const named: unknown = legacy[kind] ?? [];
    if (!Array.isArray(named)) throw new InvalidConfigurationError(`sshAlgorithms.${kind}`, 'must be a list of algorithm names');
    for (const name of named as unknown[]) {
      if (typeof name !== 'string' || !allowed.includes(name)) {
        throw new InvalidConfigurationError(`sshAlgorithms.${kind}`, `${JSON.stringify(name)} is not a legacy algorithm this client may add (one of: ${allowed.join(', ')})`);
      }
    }
    // Remove first, then append: a named one ssh2 offers by default (ssh-rsa, hmac-sha1) moves last.
    out[kind] = { remove: [...allowed], append: [...(named as string[])] };
  }
  return out as unknown as Algorithms;
}

/** ssh2's "Handshake failed: no matching ..." messages, the kind to name, and its debug line of the server's offer. */
const NO_MATCH: readonly { re: RegExp; kind: LegacySshAlgorithmKind; what: string; debug: RegExp }[] = [
  { re: /no matching key exchange/, kind: 'kex', what: 'key exchange algorithm', debug: /^Handshake: \(remote\) KEX method: (.*)$/ },
  { re: /no matching host key/, kind: 'serverHostKey', what: 'host key algorithm', debug: /^Handshake: \(remote\) Host key format: (.*)$/ },
  { re: /no matching [CS]->[CS] cipher/, kind: 'cipher', what: 'cipher', debug: /^Handshake: \(remote\) [CS]->[CS] cipher: (.*)$/ },
  { re: /no matching [CS]->[CS] MAC/, kind: 'hmac', what: 'MAC', debug: /^Handshake: \(remote\) [CS]->[CS] MAC: (.*)$/ },
];

/** The message of a handshake that failed for want of a common algorithm, or undefined for any other failure. */
function noCommonAlgorithm(message: string, remote: readonly string[], where: string): string | undefined {
  const m = NO_MATCH.find((x) => x.re.test(message));
  if (!m) return undefined;
  const line = remote.map((l) => m.debug.exec(l)).find((x) => x);
  const offered = line ? line[1]!.split(',') : [];
  const allowed: readonly string[] = LEGACY_SSH_ALGORITHMS[m.kind];
  const legacy = offered.filter((a) => allowed.includes(a));
  const offers = offered.length ? `it offers ${offered.join(', ')}` : 'its offer was not seen';
  const remedy = legacy.length
    ? `if the device cannot be upgraded, name ${legacy.map((a) => JSON.stringify(a)).join(' or ')} in the resource's sshAlgorithms.${m.kind}`
    : `none of them is a legacy algorithm sshAlgorithms.${m.kind} can name (${allowed.join(', ')})`;
  return `${where} has no SSH ${m.what} in common with this client: ${offers}; ${remedy}. Nothing was sent`;
}

/** The SHA-256 fingerprint of a host key as `ssh-keygen -lf` prints it, without "SHA256:" and padding. */
export function hostKeyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The algorithm name a key blob starts with (RFC 4253 6.6: string "ssh-ed25519", ...). */
export function hostKeyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  return length > 0 && length <= 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : undefined;
}

/**
 * Decides whether the presented key may be trusted. Resolves, or rejects with the error the
 * login fails with (HostKeyMismatchError; a state store's own error when the recorded key cannot
 * be read or written, since an unchecked key must not be let through).
 */
async function checkHostKey(check: SshHostKeyCheck, key: Buffer, where: string, log: Log | undefined): Promise<void> {
  const presented = hostKeyFingerprint(key);
  const refuse = (trusted: string, pinned: boolean) => new HostKeyMismatchError({ where, trusted, presented, pinned, resourceId: check.resourceId });
  if (check.pinned !== undefined) {
    const pinned = check.pinned.replace(/=+$/, '');
    if (presented !== pinned) throw refuse(pinned, true);
    return;
  }
  const keyType = hostKeyType(key);
  const recorded = (await check.trust.trusted()) ?? (await check.trust.firstSeen(presented, { ...(keyType ? { keyType } : {}), at: where }));
  if (recorded !== presented) throw refuse(recorded, false);
  log?.debug('ssh: host key trusted', { host: where, hostKeySha256: presented });
}

function refusalError(e: unknown, where: string): ResetError {
  if (isResetError(e)) return e;
  return new TargetUnchangedError(`the host key of ${where} could not be checked: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

// ssh2 is CommonJS: its named exports are not all visible to Node's ESM loader.
const { Client, utils } = ssh2;

const PTY = { term: 'dumb', cols: 250, rows: 40 } as const;

/** A terminal for a device CLI: VT100, wide and tall, so the device neither pages nor wraps. */
export const DEVICE_PTY: PseudoTtyOptions = { term: 'vt100', cols: 511, rows: 512 };

/**
 * One SSH login, reused for many commands: each `exec` opens a channel on it.
 * Failures map to the engine's classes: a refused login is AuthenticationError, a host
 * key other than the trusted one HostKeyMismatchError (see SshHostKeyCheck), no answer
 * TargetTimeoutError, a refused or failed connection TargetUnchangedError (nothing has been sent yet).
 */
export class SshConnection {
  readonly #client: InstanceType<typeof Client>;
  readonly #timeoutMs: number;
  #closed = false;

  private constructor(client: InstanceType<typeof Client>, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    client.on('close', () => {
      this.#closed = true;
    });
  }

  static connect(options: SshLoginOptions): Promise<SshConnection> {
    const client = new Client();
    const where = `${options.host}:${options.port}`;
    let hostKeyRefusal: unknown;
    let authTried = false;
    let kbdTried = false;
    /** The server's offer, from ssh2's debug lines, for the message of a failed negotiation. */
    const remote: string[] = [];
    let handshakeDone = false;
    let algorithms: Algorithms | undefined;
    try {
      algorithms = options.legacyAlgorithms === undefined ? undefined : deviceAlgorithms(options.legacyAlgorithms);
    } catch (e) {
      return Promise.reject(e);
    }

    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.username,
      readyTimeout: options.timeoutMs,
      keepaliveInterval: 15_000,
      ...(algorithms
        ? {
            algorithms,
            debug: (line: string) => {
              if (!handshakeDone && line.startsWith('Handshake: (remote)')) remote.push(line);
            },
          }
        : {}),
      // ssh2 waits for verify() before it finishes the key exchange; no authentication starts before.
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        checkHostKey(options.hostKey, key, where, options.log).then(
          () => verify(true),
          (e: unknown) => {
            hostKeyRefusal = e;
            verify(false);
          },
        );
      },
      authHandler: (methodsLeft, _partial, next) => {
        const done = () => next(false as unknown as AuthenticationType);
        if (options.privateKey) {
          if (authTried) return done();
          authTried = true;
          return next({ type: 'publickey', username: options.username, key: options.privateKey.reveal() } as AnyAuthMethod);
        }
        const password = options.password;
        if (!password) return done();
        // Password first; keyboard-interactive only when the server does not offer password
        // logins, so a wrong password costs one failure delay, not two.
        if (methodsLeft === null) {
          authTried = true;
          return next({ type: 'password', username: options.username, password: password.reveal() });
        }
        if (!methodsLeft.includes('password') && methodsLeft.includes('keyboard-interactive') && !kbdTried) {
          kbdTried = true;
          return next({
            type: 'keyboard-interactive',
            username: options.username,
            prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password.reveal())),
          });
        }
        return done();
      },
    };

    if (options.privateKey) {
      const parsed = utils.parseKey(options.privateKey.reveal());
      if (parsed instanceof Error) {
        return Promise.reject(new InvalidConfigurationError('privateKeySecret', `is not a private key ssh2 can use (${parsed.message.replace(/[\r\n].*/s, '')})`));
      }
    }

    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: ResetError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(e);
      };
      client.once('ready', () => {
        handshakeDone = true;
        if (settled) return;
        settled = true;
        client.removeAllListeners('error');
        // Later transport errors end the channels, which report them; keep the process alive.
        client.on('error', (e: Error) => options.log?.debug('ssh: connection error', { host: where, error: e.message }));
        resolve(new SshConnection(client, options.timeoutMs));
      });
      client.on('error', (e: Error & { level?: string; code?: string }) => {
        const noCommon = noCommonAlgorithm(e.message, remote, where);
        if (hostKeyRefusal !== undefined) {
          fail(refusalError(hostKeyRefusal, where));
        } else if (noCommon) {
          fail(new TargetUnchangedError(noCommon, { cause: e }));
        } else if (e.level === 'client-authentication') {
          fail(new AuthenticationError(`${where} refused the SSH login of ${JSON.stringify(options.username)}`, { cause: e }));
        } else if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
          fail(new TargetTimeoutError(`${where} did not complete the SSH handshake within ${options.timeoutMs} ms`, { cause: e }));
        } else {
          fail(new TargetUnchangedError(`could not connect to ${where} over SSH: ${e.message}`, { cause: e }));
        }
      });
      client.on('close', () => fail(hostKeyRefusal !== undefined ? refusalError(hostKeyRefusal, where) : new TargetUnchangedError(`${where} closed the SSH connection during login`)));
      client.connect(config);
      // Small request/answer exchanges, the handshake's included: without TCP_NODELAY, Nagle's
      // algorithm and the peer's delayed ACK held each one ~40 ms.
      client.setNoDelay(true);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a command on a new channel; with `pty`, its input and output are a terminal. */
  exec(command: string, options: { pty?: boolean } = {}): Promise<Stream> {
    return this.#channel('run a command', (cb) => this.#client.exec(command, options.pty ? { pty: PTY } : {}, cb));
  }

  /** An interactive login shell on a terminal (a device CLI passes DEVICE_PTY). */
  shell(pty: PseudoTtyOptions = PTY): Promise<Stream> {
    return this.#channel('open a shell', (cb) => this.#client.shell(pty, cb));
  }

  /**
   * Opens a channel within the deadline. Nothing has reached the command's input yet, so a
   * failure is TargetUnchangedError, or TargetTimeoutError when the target stopped answering
   * (then the connection is dropped: the next command logs in again).
   */
  #channel(what: string, open: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void): Promise<Stream> {
    if (this.#closed) return Promise.reject(new TargetUnchangedError('the SSH connection is closed'));
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.#closed = true;
        this.#client.destroy();
        reject(new TargetTimeoutError(`the target did not ${what} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      open((err, channel) => {
        clearTimeout(timer);
        if (settled) {
          channel?.close();
          return;
        }
        settled = true;
        if (err) reject(new TargetUnchangedError(`the target refused to ${what}: ${err.message}`, { cause: err }));
        else resolve(new ChannelStream(channel));
      });
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      // A polite end needs the target's answer; a hung one gets the socket destroyed.
      const timer = setTimeout(() => this.#client.destroy(), Math.min(this.#timeoutMs, 2_000));
      this.#client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#client.end();
    });
  }
}

/**
 * The host key a server presents now, read from the key exchange; the connection is then refused
 * by us, so nothing is authenticated and no credential is sent. For an operator accepting a key.
 */
export function presentedHostKey(options: { host: string; port: number; timeoutMs: number }): Promise<{ sha256: string; keyType?: string }> {
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen: { sha256: string; keyType?: string } | undefined;
    const settle = (e?: ResetError) => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.destroy();
      if (seen) resolve(seen);
      else reject(e ?? new TargetUnchangedError(`${where} closed the SSH connection before presenting a host key`));
    };
    client.on('error', (e: Error & { level?: string; code?: string }) =>
      settle(
        e.level === 'client-timeout' || e.code === 'ETIMEDOUT'
          ? new TargetTimeoutError(`${where} did not present an SSH host key within ${options.timeoutMs} ms`, { cause: e })
          : new TargetUnchangedError(`could not connect to ${where} over SSH: ${e.message}`, { cause: e }),
      ),
    );
    client.on('close', () => settle());
    client.on('ready', () => settle());
    client.connect({
      host: options.host,
      port: options.port,
      username: 'rpr-host-key',
      readyTimeout: options.timeoutMs,
      // No authentication method is offered, should the refusal below ever be ignored.
      authHandler: (_methods, _partial, next) => next(false as unknown as AuthenticationType),
      hostVerifier: (key: Buffer) => {
        const keyType = hostKeyType(key);
        seen = { sha256: hostKeyFingerprint(key), ...(keyType ? { keyType } : {}) };
        return false;
      },
    });
  });
}

/** An SSH channel as a Stream: stdout and stderr merged (as on a terminal), the exit status on close. */
class ChannelStream implements Stream {
  readonly #channel: ClientChannel;
  #handlers: StreamHandlers | undefined;
  readonly #pending: Buffer[] = [];
  #exit: { exitCode?: number; signal?: string } = {};
  #closeInfo: CloseInfo | undefined;

  constructor(channel: ClientChannel) {
    this.#channel = channel;
    const onData = (chunk: Buffer) => (this.#handlers ? this.#handlers.data(chunk) : this.#pending.push(chunk));
    channel.on('data', onData);
    channel.stderr.on('data', onData);
    channel.on('exit', (code: number | null, signal?: string) => {
      this.#exit = { ...(code !== null && code !== undefined ? { exitCode: code } : {}), ...(signal ? { signal } : {}) };
    });
    channel.on('close', () => {
      this.#closeInfo = this.#exit;
      this.#handlers?.close(this.#closeInfo);
    });
  }

  subscribe(handlers: StreamHandlers): void {
    this.#handlers = handlers;
    for (const chunk of this.#pending.splice(0)) handlers.data(chunk);
    if (this.#closeInfo) handlers.close(this.#closeInfo);
  }

  write(bytes: Buffer): void {
    this.#channel.write(bytes);
  }

  end(): void {
    this.#channel.end();
  }

  close(): void {
    this.#channel.close();
  }
}
