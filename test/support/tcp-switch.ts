// A TCP forwarder on loopback whose upstream a test chooses per connection: the same address
// answered by one host and then by another, as when a host's key is swapped or an impostor answers.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpSwitch {
  readonly host = '127.0.0.1';
  readonly #server: Server;
  readonly #live = new Set<Socket>();
  #accepted = 0;

  /** `upstream(i)`: the port connection number `i` (0, 1, ...) is forwarded to. */
  private constructor(public upstream: (i: number) => number) {
    this.#server = createServer((client) => this.#route(client));
  }

  static async start(upstream: (i: number) => number): Promise<TcpSwitch> {
    const s = new TcpSwitch(upstream);
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Every later connection goes to `port`. */
  to(port: number): void {
    this.upstream = () => port;
  }

  #route(client: Socket): void {
    const upstream = connect({ host: '127.0.0.1', port: this.upstream(this.#accepted++) });
    for (const s of [client, upstream]) {
      this.#live.add(s);
      s.on('close', () => this.#live.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  close(): Promise<void> {
    for (const s of this.#live) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
