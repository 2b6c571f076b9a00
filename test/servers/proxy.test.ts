import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './proxy.js';

/** An echo server that also records everything it received, per connection. */
async function echoServer(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer((socket) => {
    const i = received.push('') - 1;
    socket.on('data', (d) => {
      received[i] += d.toString('latin1');
      socket.write(d);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { server, port: address.port, received };
}

interface TestClient {
  socket: Socket;
  data: string;
  closed: Promise<void>;
  /** Resolves once the echoed data contains `text`. */
  waitFor(text: string): Promise<void>;
}

async function client(proxy: FaultProxy): Promise<TestClient> {
  const socket = connect({ host: proxy.host, port: proxy.port });
  socket.on('error', () => undefined);
  const c: TestClient = {
    socket,
    data: '',
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (c.data.includes(text)) {
            socket.off('data', check);
            resolve();
          }
        };
        socket.on('data', check);
        socket.once('close', () => reject(new Error(`closed before ${JSON.stringify(text)}; got ${JSON.stringify(c.data)}`)));
        check();
      }),
  };
  socket.on('data', (d: Buffer) => (c.data += d.toString('latin1')));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('FaultProxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;

  beforeEach(async () => {
    echo = await echoServer();
    proxy = await FaultProxy.start({ host: '127.0.0.1', port: echo.port });
  });

  afterEach(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.server.close(resolve));
  });

  it('forwards both ways on 127.0.0.1 and counts connections', async () => {
    expect(proxy.host).toBe('127.0.0.1');
    const a = await client(proxy);
    a.socket.write('hello');
    await a.waitFor('hello');
    const b = await client(proxy);
    b.socket.write('x'.repeat(1_000_000));
    await b.waitFor('x'.repeat(1_000_000));
    expect(proxy.connections).toBe(2);
    a.socket.end();
    b.socket.end();
  });

  it('cutAll closes every open connection', async () => {
    const a = await client(proxy);
    const b = await client(proxy);
    a.socket.write('ping');
    await a.waitFor('ping');
    proxy.cutAll();
    await Promise.all([a.closed, b.closed]);
    const c = await client(proxy);
    c.socket.write('again');
    await c.waitFor('again');
    c.socket.end();
  });

  it('refuseNew accepts and closes new connections, and lets them through again when off', async () => {
    proxy.refuseNew(true);
    const a = await client(proxy);
    await a.closed;
    expect(a.data).toBe('');
    expect(proxy.connections).toBe(1);
    proxy.refuseNew(false);
    const b = await client(proxy);
    b.socket.write('back');
    await b.waitFor('back');
    b.socket.end();
  });

  it('blackhole keeps the socket open and drops traffic both ways', async () => {
    const a = await client(proxy);
    proxy.blackhole(true);
    a.socket.write('lost');
    await sleep(200);
    expect(a.data).toBe('');
    expect(a.socket.destroyed).toBe(false);
    expect(echo.received.join('')).toBe('');
    proxy.blackhole(false);
    a.socket.write('found');
    await a.waitFor('found');
    expect(a.data).toBe('found');
    a.socket.end();
  });

  it("cutWhenClientSends 'before' cuts without forwarding the matching chunk, once", async () => {
    proxy.cutWhenClientSends('ALTER USER', 'before');
    const a = await client(proxy);
    a.socket.write('SELECT 1;');
    await a.waitFor('SELECT 1;');
    a.socket.write("ALTER USER x IDENTIFIED BY 'y';");
    await a.closed;
    expect(echo.received[0]).toBe('SELECT 1;');
    // One-shot: the next connection passes the same text.
    const b = await client(proxy);
    b.socket.write('ALTER USER again');
    await b.waitFor('ALTER USER again');
    b.socket.end();
  });

  it("cutWhenClientSends 'after' forwards the matching chunk, then cuts", async () => {
    proxy.cutWhenClientSends(/passw(or)?d/i, 'after');
    const a = await client(proxy);
    a.socket.write('change PASSWORD now');
    await a.closed;
    await sleep(50);
    expect(echo.received[0]).toBe('change PASSWORD now');
  });

  it('matches a pattern split across chunks', async () => {
    proxy.cutWhenClientSends(Buffer.from('chpasswd'), 'before');
    const a = await client(proxy);
    a.socket.write('sudo chpa');
    await a.waitFor('sudo chpa');
    a.socket.write('sswd\n');
    await a.closed;
    expect(echo.received[0]).toBe('sudo chpa');
  });

  it('lets observers see each direction and cut a chosen connection', async () => {
    const seen: string[] = [];
    proxy.onClientData((chunk, conn) => {
      seen.push(`c${conn.index}:${chunk.toString()}`);
      if (chunk.toString() === 'boom') conn.cut();
    });
    proxy.onServerData((chunk, conn) => seen.push(`s${conn.index}:${chunk.toString()}`));
    const a = await client(proxy);
    const b = await client(proxy);
    a.socket.write('one');
    await a.waitFor('one');
    b.socket.write('boom');
    await b.closed;
    expect(seen).toEqual(['c0:one', 's0:one', 'c1:boom']);
    expect(a.socket.destroyed).toBe(false);
    a.socket.end();
  });

  it('closes the client when the target refuses the connection', async () => {
    const gone = await echoServer();
    await new Promise((resolve) => gone.server.close(resolve)); // nothing listens on gone.port now
    const dead = await FaultProxy.start({ host: '127.0.0.1', port: gone.port });
    const a = await client(dead);
    await a.closed;
    expect(dead.connections).toBe(1);
    await dead.close();
  });
});
