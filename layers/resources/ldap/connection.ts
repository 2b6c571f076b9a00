import net from 'node:net';
import tls from 'node:tls';
import { Client, ResultCodeError } from 'ldapts';
import {
  AuthenticationError,
  InvalidConfigurationError,
  OutcomeUnknownError,
  ResetError,
  TargetTimeoutError,
  TargetUnchangedError,
  ThrottledError,
} from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import { DeadlineExceeded, isConnectionLoss, isTlsTrustFailure, withDeadline } from '../sql-common.js';

/**
 * LDAP connections shared by the LDAP and Active Directory adapters (ldapts 8.2.0).
 *
 * We open the socket ourselves (TCP, or TLS for LDAPS, verified and under our deadline) and hand it to
 * ldapts through its documented `createConnection` hook, which it calls once per connection. The hook is
 * one-shot: if the connection drops, ldapts would otherwise reconnect silently and carry on unbound (or,
 * after StartTLS, in plain text); here the next operation fails instead and the caller opens a new one.
 * StartTLS uses ldapts's `startTLS()` on the plain connection (its `tlsOptions` on an ldap:// URL would
 * mean implicit TLS), wrapped in our deadline because ldapts puts none on the handshake.
 */

export type LdapSecurity = 'ldaps' | 'starttls' | 'plain';

export interface LdapEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: LdapSecurity;
  /** PEM; unset: the system's CAs. */
  readonly caCertificate?: string | undefined;
}

export interface LdapOptions {
  /** Deadline for connecting, the TLS handshake, and each LDAP operation. */
  readonly timeoutMs: number;
}

/** Errors raised before a request could be written (the connection was already gone). */
const NOT_SENT = new WeakSet<Error>();

/** The raw socket under each client we opened, to tell a dead connection from a live one. */
const rawSockets = new WeakMap<Client, net.Socket>();

function tlsOptionsFor(endpoint: LdapEndpoint): tls.ConnectionOptions {
  return {
    host: endpoint.host,
    // SNI only for names: Node warns when servername is an IP address. The certificate check uses `host`.
    ...(net.isIP(endpoint.host) ? {} : { servername: endpoint.host }),
    ...(endpoint.caCertificate ? { ca: endpoint.caCertificate } : {}),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

function connectSocket(endpoint: LdapEndpoint, timeoutMs: number): Promise<net.Socket> {
  let socket: net.Socket;
  const opened = new Promise<net.Socket>((resolve, reject) => {
    if (endpoint.security === 'ldaps') {
      socket = tls.connect({ ...tlsOptionsFor(endpoint), port: endpoint.port });
      socket.once('secureConnect', () => resolve(socket));
    } else {
      socket = net.connect({ host: endpoint.host, port: endpoint.port });
      socket.once('connect', () => resolve(socket));
    }
    socket.once('error', reject);
  });
  const what = endpoint.security === 'ldaps' ? 'connecting with TLS (LDAPS)' : 'connecting';
  return withDeadline(`${what} to ${endpoint.host}:${endpoint.port}`, timeoutMs, opened, () => socket.destroy()).then(
    (s) => {
      s.removeAllListeners('error');
      // Requests are small and answered one at a time: without this, Nagle's algorithm holds each one back (StartTLS: ~10 ms per change).
      s.setNoDelay(true);
      return s;
    },
    (e: unknown) => {
      socket.destroy();
      throw e;
    },
  );
}

/** Connected (TLS up; StartTLS done, verified against caCertificate or the system CAs), not bound. */
export async function openLdap(endpoint: LdapEndpoint, options: LdapOptions): Promise<Client> {
  const where = `${endpoint.host}:${endpoint.port}`;
  let raw: net.Socket;
  try {
    raw = await connectSocket(endpoint, options.timeoutMs);
  } catch (e) {
    throw classifyLdapError(e, { operation: `connecting to the LDAP server ${where}`, sent: false });
  }
  let handedOver = false;
  const client = new Client({
    url: `ldap://${net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`,
    timeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    createConnection: (() => {
      if (handedOver) {
        const e = new Error('the LDAP connection was closed; not reconnecting without a new bind') as NodeJS.ErrnoException;
        e.code = 'ERR_SOCKET_CLOSED';
        NOT_SENT.add(e);
        throw e;
      }
      handedOver = true;
      return raw;
    }) as typeof net.connect,
  });
  rawSockets.set(client, raw);
  if (endpoint.security === 'starttls') {
    try {
      await withDeadline(`StartTLS with ${where}`, options.timeoutMs, client.startTLS(tlsOptionsFor(endpoint)), () => raw.destroy());
    } catch (e) {
      raw.destroy();
      const code = ldapResultCode(e);
      if (code !== undefined) {
        // The server answered the StartTLS request with a refusal: it does not offer TLS on this port.
        throw new InvalidConfigurationError('starttls', `the LDAP server ${where} refused StartTLS: ${describe(e)} (LDAP result ${code}); refusing to continue in plain text`, { cause: e });
      }
      throw classifyLdapError(e, { operation: `StartTLS with the LDAP server ${where}`, sent: false });
    }
  } else {
    // Hand the socket over now, so that the client is connected as promised (ldapts connects lazily).
    try {
      await (client as unknown as { _ensureConnected(): Promise<void> })._ensureConnected?.();
    } catch (e) {
      raw.destroy();
      throw classifyLdapError(e, { operation: `connecting to the LDAP server ${where}`, sent: false });
    }
  }
  return client;
}

/** Whether the connection under a client from openLdap is still open. */
export function isLdapAlive(client: Client): boolean {
  const raw = rawSockets.get(client);
  return raw !== undefined && !raw.destroyed && raw.readyState === 'open' && client.isConnected;
}

/** Unbinds and closes, never throwing and never waiting longer than the deadline. */
export async function closeLdap(client: Client, options: LdapOptions): Promise<void> {
  const raw = rawSockets.get(client);
  if (raw === undefined || raw.destroyed) return;
  await withDeadline('unbinding', options.timeoutMs, client.unbind(), () => raw.destroy()).catch(() => undefined);
  raw.destroy();
}

/** LDAP result codes (RFC 4511 appendix A) the classification names. */
export const LDAP_RESULT = {
  timeLimitExceeded: 3,
  authMethodNotSupported: 7,
  strongAuthRequired: 8,
  confidentialityRequired: 13,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  constraintViolation: 19,
  attributeOrValueExists: 20,
  invalidAttributeSyntax: 21,
  noSuchObject: 32,
  invalidDNSyntax: 34,
  inappropriateAuthentication: 48,
  invalidCredentials: 49,
  insufficientAccessRights: 50,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
} as const;

/** The LDAP result code of a server's answer, or undefined when the error is not one (a socket error, a timeout). */
export function ldapResultCode(error: unknown): number | undefined {
  if (error instanceof ResetError) return ldapResultCode(error.cause);
  if (error instanceof ResultCodeError && typeof error.code === 'number') return error.code;
  return undefined;
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isTimeout(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof DeadlineExceeded || code === 'ETIMEDOUT' || /timed out|timeout/i.test(describe(e));
}

/**
 * ldapts/socket errors → the engine's error classes (layers/engine/errors.ts).
 * `sent` = whether a write may have reached the server: then a lost connection or a missing answer is an
 * OutcomeUnknownError, never a TargetUnchangedError. A result code from the server is an answer: LDAP
 * updates are atomic (RFC 4511 section 4.6), so a refusal means nothing was changed, whatever `sent` says.
 */
export function classifyLdapError(error: unknown, context: { readonly operation: string; readonly sent: boolean }): Error {
  if (error instanceof ResetError) return error;
  const what = context.operation;
  const code = ldapResultCode(error);
  if (code !== undefined) {
    const server = `${describe(error)} (LDAP result ${code})`;
    switch (code) {
      case LDAP_RESULT.invalidCredentials:
      case LDAP_RESULT.inappropriateAuthentication:
        return new AuthenticationError(`${what}: the server refused the credentials: ${server}`, { cause: error });
      case LDAP_RESULT.constraintViolation:
        return new TargetUnchangedError(`${what}: the server's password policy or a constraint refused the change; nothing was changed: ${server}`, { cause: error });
      case LDAP_RESULT.strongAuthRequired:
      case LDAP_RESULT.confidentialityRequired:
        return new InvalidConfigurationError('ssl', `${what}: the server requires a TLS-protected connection (use LDAPS or StartTLS): ${server}`, { cause: error });
      case LDAP_RESULT.invalidDNSyntax:
        return new InvalidConfigurationError('account.username', `${what}: the server refused the DN's syntax; nothing was changed: ${server}`, { cause: error });
      case LDAP_RESULT.noSuchObject:
        return new TargetUnchangedError(`${what}: no such entry on the server; nothing was changed: ${server}`, { cause: error });
      case LDAP_RESULT.insufficientAccessRights:
        return new TargetUnchangedError(`${what}: the bound account may not do this; nothing was changed: ${server}`, { cause: error });
      case LDAP_RESULT.busy:
        return new ThrottledError(`${what}: the server is busy; nothing was changed: ${server}`, { cause: error });
      case LDAP_RESULT.timeLimitExceeded:
        return new TargetTimeoutError(`${what}: the server gave up in time; nothing was changed: ${server}`, { cause: error });
      default:
        return new TargetUnchangedError(`${what}: the server refused it; nothing was changed: ${server}`, { cause: error });
    }
  }
  if (isTlsTrustFailure(error)) {
    return new InvalidConfigurationError('caCertificate', `${what}: the server's TLS certificate is not trusted (${describe(error)})`, { cause: error });
  }
  if (/^ERR_SSL_/.test(codeOf(error) ?? '')) {
    return new InvalidConfigurationError('ssl', `${what}: the TLS handshake failed (${describe(error)}); is this port serving LDAPS?`, { cause: error });
  }
  if (context.sent && !(error instanceof Error && NOT_SENT.has(error))) {
    return new OutcomeUnknownError(
      `${what}: no answer from the server after the request was sent (${describe(error)}); the change may or may not have been applied`,
      { cause: error },
    );
  }
  if (isTimeout(error)) return new TargetTimeoutError(`${what}: the server did not answer in time; nothing was changed`, { cause: error });
  if (isConnectionLoss(error) || /connection|socket/i.test(describe(error))) {
    return new TargetUnchangedError(`${what}: the connection failed or was lost; nothing was changed: ${describe(error)}`, { cause: error });
  }
  return new TargetUnchangedError(`${what}: failed; nothing was changed: ${describe(error)}`, { cause: error });
}

/**
 * A fresh connection and a simple bind: true when it succeeds, false on invalidCredentials (49);
 * throws (classified) otherwise; always unbinds/closes. An empty password is refused before anything is
 * sent: a simple bind with one is an unauthenticated bind (RFC 4513 section 5.1.2), which "succeeds".
 */
export async function tryBind(endpoint: LdapEndpoint, dn: string, password: Secret, options: LdapOptions): Promise<boolean> {
  if (password.length === 0) {
    throw new InvalidConfigurationError('password', 'is empty: an LDAP simple bind with an empty password is an unauthenticated bind and proves nothing');
  }
  const client = await openLdap(endpoint, options);
  try {
    await client.bind(dn, password.reveal());
    return true;
  } catch (e) {
    if (ldapResultCode(e) === LDAP_RESULT.invalidCredentials) return false;
    throw classifyLdapError(e, { operation: 'binding to check the password', sent: false });
  } finally {
    await closeLdap(client, options);
  }
}
