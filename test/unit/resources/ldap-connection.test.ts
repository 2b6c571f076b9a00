// The LDAP connection module against tiny fake servers on loopback: what a refusing, silent or
// non-TLS server becomes, before any real directory is involved.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { isLdapAlive, openLdap, tryBind, type LdapEndpoint } from '../../../layers/resources/ldap/connection.js';

/** Where the INTEGER messageID of one BER-encoded LDAPMessage starts (after the SEQUENCE header). */
function idStart(chunk: Buffer): number {
  const len = chunk[1]!;
  return 1 + (len & 0x80 ? 1 + (len & 0x7f) : 1);
}
function messageId(chunk: Buffer): number {
  const i = idStart(chunk);
  return chunk.subarray(i + 2, i + 2 + chunk[i + 1]!).readUIntBE(0, chunk[i + 1]!);
}
/** The protocolOp's tag (0x42 is an UnbindRequest). */
function opTag(chunk: Buffer): number {
  const i = idStart(chunk);
  return chunk[i + 2 + chunk[i + 1]!]!;
}

/** An LDAPResult-shaped response: [APPLICATION tag] { resultCode, matchedDN "", diagnosticMessage }. */
function response(id: number, tag: number, resultCode: number, message = ''): Buffer {
  const diag = Buffer.from(message);
  const body = Buffer.concat([Buffer.from([0x0a, 0x01, resultCode, 0x04, 0x00, 0x04, diag.length]), diag]);
  const op = Buffer.concat([Buffer.from([tag, body.length]), body]);
  const inner = Buffer.concat([Buffer.from([0x02, 0x01, id]), op]);
  return Buffer.concat([Buffer.from([0x30, inner.length]), inner]);
}

const BIND_RESPONSE = 0x61;
const EXTENDED_RESPONSE = 0x78;

let server: Server | undefined;
const sockets = new Set<Socket>();
let accepted = 0;
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function fake(onData: (socket: Socket, chunk: Buffer) => void): Promise<number> {
  accepted = 0;
  server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', (chunk) => onData(socket, chunk));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const at = (port: number, security: LdapEndpoint['security']): LdapEndpoint => ({ host: '127.0.0.1', port, security });

describe('openLdap', () => {
  it('a server that refuses StartTLS is a configuration error naming starttls, never a plain-text session', async () => {
    const port = await fake((s, chunk) => s.write(response(messageId(chunk), EXTENDED_RESPONSE, 2, 'unsupported extended operation')));
    const e = await openLdap(at(port, 'starttls'), { timeoutMs: 2_000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('starttls');
    expect((e as Error).message).toMatch(/unsupported extended operation.*LDAP result 2/);
  });

  it('a server that never answers StartTLS is a TargetTimeoutError after the deadline', async () => {
    const port = await fake(() => undefined);
    const started = Date.now();
    const e = await openLdap(at(port, 'starttls'), { timeoutMs: 300 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TargetTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an LDAPS handshake that never completes is a TargetTimeoutError after the deadline', async () => {
    const port = await fake(() => undefined);
    const started = Date.now();
    const e = await openLdap(at(port, 'ldaps'), { timeoutMs: 300 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TargetTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('LDAPS to a port that does not speak TLS is a configuration error naming ssl', async () => {
    const port = await fake((s) => s.write('this is not TLS at all, just some plain bytes\r\n'));
    const e = await openLdap(at(port, 'ldaps'), { timeoutMs: 2_000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('ssl');
  });

  it('a closed port is a retryable TargetUnchangedError', async () => {
    const port = await fake(() => undefined);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const e = await openLdap(at(port, 'plain'), { timeoutMs: 2_000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as TargetUnchangedError).retryable).toBe(true);
  });

  it('does not reconnect behind the caller: once the connection drops, the client is dead and operations fail', async () => {
    const port = await fake((s, chunk) => s.write(response(messageId(chunk), BIND_RESPONSE, 0)));
    const client = await openLdap(at(port, 'plain'), { timeoutMs: 2_000 });
    expect(isLdapAlive(client)).toBe(true);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(isLdapAlive(client)).toBe(false);
    await expect(client.bind('cn=x', 'pw-1234')).rejects.toThrow(/closed/);
    expect(accepted).toBe(1);
  });
});

describe('tryBind', () => {
  it('true on success, false on invalidCredentials, a classified error on anything else', async () => {
    let code = 0;
    const port = await fake((s, chunk) => {
      if (opTag(chunk) === 0x42) return s.end();
      s.write(response(messageId(chunk), BIND_RESPONSE, code, code === 0 ? '' : 'refused'));
    });
    const ep = at(port, 'plain');
    expect(await tryBind(ep, 'cn=a', new Secret('right-password'), { timeoutMs: 2_000 })).toBe(true);
    code = 49;
    expect(await tryBind(ep, 'cn=a', new Secret('wrong-password'), { timeoutMs: 2_000 })).toBe(false);
    code = 52;
    await expect(tryBind(ep, 'cn=a', new Secret('any-password'), { timeoutMs: 2_000 })).rejects.toBeInstanceOf(TargetUnchangedError);
  });
});
