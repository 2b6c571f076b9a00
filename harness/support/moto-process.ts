import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A moto server of its own (`moto_server`, installed by `test/servers/setup.sh install`) on a free
 * loopback port, for a benchmark that should neither share the test servers' moto nor inherit
 * its state. Python's one interpreter lock holds moto to about one core, so a benchmark that
 * needs more runs two: one for Secrets Manager, one for the rest.
 */
export async function startMoto(bin = 'moto_server'): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`${bin} did not start on port ${port} (is moto installed? bash test/servers/setup.sh install)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
