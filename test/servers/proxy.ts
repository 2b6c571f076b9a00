// A TCP proxy on loopback that tests steer to break connections at chosen moments: cut them,
// refuse new ones, hang them (blackhole), or cut when the client sends a given command.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ProxyConnection {
  /** Destroy both sides of this connection now. */
  cut(): void;
  /** 0 for the first connection the proxy accepted, 1 for the next, ... */
  index: number;
}

type Observer = (chunk: Buffer, conn: ProxyConnection) => void;

interface Trigger {
  pattern: string | RegExp | Buffer;
  when: 'before' | 'after';
}

interface Link extends ProxyConnection {
  client: Socket;
  upstream: Socket;
  /** What the client has sent so far (latin1, bounded), so a pattern split across chunks still matches. */
  sent: string;
}

const MATCH_WINDOW = 64 * 1024;

export class FaultProxy {
  /** The loopback address it listens on (127.0.0.1 unless asked for another, say one a certificate does not name). */
  readonly host: string;
  readonly port: number;
  private readonly links = new Set<Link>();
  private accepted = 0;
  private refusing = false;
  private blackholed = false;
  private trigger: Trigger | undefined;
  private readonly clientObservers: Observer[] = [];
  private readonly serverObservers: Observer[] = [];

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('FaultProxy: no TCP address');
    this.host = address.address;
    this.port = address.port;
    server.on('connection', (socket) => this.accept(socket));
  }

  static start(target: { host: string; port: number }, options: { listen?: string } = {}): Promise<FaultProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true });
      server.once('error', reject);
      server.listen(0, options.listen ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(new FaultProxy(server, target));
      });
    });
  }

  /** Connections accepted so far (refused ones included). */
  get connections(): number {
    return this.accepted;
  }

  /** Destroy every open connection now. */
  cutAll(): void {
    for (const link of [...this.links]) link.cut();
  }

  /** While on, new connections are accepted and closed at once. */
  refuseNew(on: boolean): void {
    this.refusing = on;
  }

  /** While on, sockets stay open but all traffic is dropped both ways (a hung target). */
  blackhole(on: boolean): void {
    this.blackholed = on;
  }

  /**
   * One-shot: when the client->server stream of a connection matches `pattern`, cut that
   * connection before or after forwarding the chunk that completes the match.
   */
  cutWhenClientSends(pattern: string | RegExp | Buffer, when: 'before' | 'after'): void {
    this.trigger = { pattern, when };
    for (const link of this.links) link.sent = '';
  }

  onClientData(cb: Observer): void {
    this.clientObservers.push(cb);
  }

  onServerData(cb: Observer): void {
    this.serverObservers.push(cb);
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const index = this.accepted++;
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: this.target.host, port: this.target.port });
    // A proxy must not add latency of its own: with Nagle's algorithm each small forwarded
    // packet could wait for the ACK of the one before (a delayed ACK, up to 40 ms on loopback).
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.pause();
    const link: Link = {
      client,
      upstream,
      index,
      sent: '',
      cut: () => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      },
    };
    this.links.add(link);
    client.on('error', () => link.cut());
    upstream.on('error', () => link.cut());
    client.on('close', () => link.cut());
    upstream.on('close', () => link.cut());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    upstream.once('connect', () => {
      client.on('data', (chunk: Buffer) => this.fromClient(link, chunk));
      upstream.on('data', (chunk: Buffer) => this.fromServer(link, chunk));
      client.resume();
      upstream.resume();
    });
  }

  private fromClient(link: Link, chunk: Buffer): void {
    for (const observe of this.clientObservers) {
      observe(chunk, link);
      if (!this.links.has(link)) return;
    }
    if (this.blackholed) return;
    const trigger = this.trigger;
    if (trigger !== undefined) {
      link.sent = (link.sent + chunk.toString('latin1')).slice(-MATCH_WINDOW);
      if (matches(link.sent, trigger.pattern)) {
        this.trigger = undefined;
        if (trigger.when === 'before') {
          link.cut();
        } else {
          // Cut once the chunk has been handed to the target's socket.
          link.upstream.write(chunk, () => link.cut());
        }
        return;
      }
    }
    forward(chunk, link.client, link.upstream);
  }

  private fromServer(link: Link, chunk: Buffer): void {
    for (const observe of this.serverObservers) {
      observe(chunk, link);
      if (!this.links.has(link)) return;
    }
    if (this.blackholed) return;
    forward(chunk, link.upstream, link.client);
  }
}

function matches(sent: string, pattern: string | RegExp | Buffer): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(sent);
  }
  const needle = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8').toString('latin1') : pattern.toString('latin1');
  return sent.includes(needle);
}

/** Write with backpressure: pause the source while the destination's buffer is full. */
function forward(chunk: Buffer, from: Socket, to: Socket): void {
  if (to.destroyed) return;
  if (!to.write(chunk)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}
