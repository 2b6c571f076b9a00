// A SQL Server Browser: the UDP service (port 1434) that tells clients the TCP port of a named
// instance, written from Microsoft's open specification [MC-SQLR] "SQL Server Resolution
// Protocol" (learn.microsoft.com/openspecs/windows_protocols/mc-sqlr):
//
// - 2.2.1 CLNT_BCAST_EX (0x02) and 2.2.2 CLNT_UCAST_EX (0x03): one byte, asking for every instance
//   (tedious sends the first to the host itself, FreeTDS the second);
// - 2.2.3 CLNT_UCAST_INST (0x04) then the instance name, at most 32 bytes, NUL-terminated: one instance;
// - 2.2.4 CLNT_UCAST_DAC (0x0F), then protocol version 0x01 and the instance name: its dedicated
//   administrator connection port;
// - 2.2.5 SVR_RESP: 0x05, RESP_SIZE (2 bytes, little-endian), then RESP_DATA in the client's code
//   page: per instance `ServerName;S;InstanceName;I;IsClustered;No;Version;V;tcp;PORT;;` (the
//   `np;\\S\pipe\…` and other protocol tokens are optional; only tcp is offered here). RESP_DATA of
//   CLNT_UCAST_INST is at most 1,024 bytes, of the EX requests at most 65,535. The DAC answer is
//   0x05, RESP_SIZE 0x0006, version 0x01 and the port (2 bytes, little-endian).
// - 3.2.5: a request the server does not understand, or for an instance it does not have, gets no
//   answer at all (the client times out).
//
// Instance names are compared case-insensitively, as SQL Server does.
import { createSocket, type Socket } from 'node:dgram';

export interface BrowserInstance {
  readonly name: string;
  readonly port: number;
  readonly version?: string;
  /** Its dedicated administrator connection's port, if it offers one. */
  readonly dacPort?: number;
}

export interface SqlBrowser {
  readonly port: number;
  /** Requests received, by type byte, for the tests. */
  readonly requests: number[];
  stop(): Promise<void>;
}

const SERVER_NAME = 'RPRSIM';

function entry(i: BrowserInstance): string {
  return `ServerName;${SERVER_NAME};InstanceName;${i.name};IsClustered;No;Version;${i.version ?? '16.0.1000.6'};tcp;${i.port};;`;
}

function svrResp(data: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0x05;
  head.writeUInt16LE(data.length, 1);
  return Buffer.concat([head, data]);
}

/** The answer [MC-SQLR] gives a request, or undefined where the server stays silent. */
export function answer(request: Buffer, instances: readonly BrowserInstance[]): Buffer | undefined {
  const find = (name: string) => instances.find((i) => i.name.toUpperCase() === name.toUpperCase());
  const nameAt = (offset: number) => {
    const end = request.indexOf(0, offset);
    const raw = request.subarray(offset, end < 0 ? request.length : end);
    return raw.length > 0 && raw.length <= 32 ? raw.toString('latin1') : undefined;
  };
  switch (request[0]) {
    case 0x02:
    case 0x03: {
      if (request.length !== 1 || instances.length === 0) return undefined;
      const data = Buffer.from(instances.map(entry).join(''), 'latin1');
      return data.length <= 65_535 ? svrResp(data) : undefined;
    }
    case 0x04: {
      const name = nameAt(1);
      const found = name === undefined ? undefined : find(name);
      return found ? svrResp(Buffer.from(entry(found), 'latin1')) : undefined;
    }
    case 0x0f: {
      const name = request[1] === 0x01 ? nameAt(2) : undefined;
      const found = name === undefined ? undefined : find(name);
      if (!found?.dacPort) return undefined;
      const out = Buffer.alloc(6);
      out[0] = 0x05;
      out.writeUInt16LE(6, 1);
      out[3] = 0x01;
      out.writeUInt16LE(found.dacPort, 4);
      return out;
    }
    default:
      return undefined;
  }
}

/** Listens on 127.0.0.1 (port 1434 unless told: clients such as tedious always ask there). */
export async function startSqlBrowser(instances: readonly BrowserInstance[], port = 1434): Promise<SqlBrowser> {
  const socket: Socket = createSocket('udp4');
  const requests: number[] = [];
  socket.on('message', (msg, from) => {
    requests.push(msg[0] ?? -1);
    const out = answer(msg, instances);
    if (out) socket.send(out, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return {
    port: socket.address().port,
    requests,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
