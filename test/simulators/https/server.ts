/**
 * The core every cloud-identity simulator stands on: an HTTPS server on 127.0.0.1 with the test CA's
 * certificate (harness/support/https-certificates.ts, trusted by the test workers through
 * NODE_EXTRA_CA_CERTS), a record of every request as it arrived (method, URL, headers, body: what a
 * test searches for a password that must not be there), a rate limit enforced as providers do
 * (429 with Retry-After), and per-test faults: throttling, slow answers, and a connection cut before
 * or after the provider acts on a request.
 *
 * Each provider's simulator (one file per provider beside this one) is a `Handler` written from that
 * provider's API reference: it authenticates every request as the provider does and answers with the
 * provider's documented status codes and error bodies.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { testCertificates } from '../../../harness/support/https-certificates.js';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SimRequest extends RecordedRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  /** The body as JSON (undefined when it is not). */
  json<T = unknown>(): T | undefined;
  /** The body as a form (application/x-www-form-urlencoded). */
  form(): URLSearchParams;
}

export interface SimResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  readonly text?: string;
}

export type Handler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface HttpsFaults {
  /** The next `count` matching requests are answered `status` (429 by default) with Retry-After, and not acted on. */
  readonly throttle?: { readonly count: number; readonly status?: 429 | 503; readonly retryAfterSeconds?: number; readonly match?: (r: RecordedRequest) => boolean };
  /**
   * The next `count` (1) matching requests lose their connection with no answer: `before` the
   * provider acts on the request, or `after` it did (the change is made, the answer never arrives).
   */
  readonly cut?: { readonly when: 'before' | 'after'; readonly match: (r: RecordedRequest) => boolean; readonly count?: number };
  /** Every answer is held this long first. */
  readonly delayMs?: number;
}

export interface HttpsSimulatorOptions {
  /** A provider's documented limit: at most `requests` in any `windowMs`; beyond it 429 with Retry-After. */
  readonly rateLimit?: { readonly requests: number; readonly windowMs: number };
}

export interface HttpsSimulator {
  /** https://127.0.0.1:PORT */
  readonly origin: string;
  readonly port: number;
  /** Every request since the start (throttled and cut ones included). */
  readonly requests: readonly RecordedRequest[];
  /** Requests answered 429/503 by the rate limit or a fault. */
  throttled(): number;
  setFaults(faults: HttpsFaults): void;
  stop(): Promise<void>;
}

function recorded(method: string, url: string, headers: Record<string, string | string[] | undefined>, body: string): RecordedRequest {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { method, url, headers: flat, body };
}

export async function startHttpsSimulator(handler: Handler, options: HttpsSimulatorOptions = {}): Promise<HttpsSimulator> {
  const { cert, key } = testCertificates();
  const requests: RecordedRequest[] = [];
  const recent: number[] = [];
  let faults: HttpsFaults = {};
  let throttleLeft = 0;
  let cutLeft = 0;
  let throttled = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const rec = recorded(req.method ?? 'GET', req.url ?? '/', req.headers, body);
        requests.push(rec);
        const send = (r: SimResponse) => {
          const text = r.json === undefined ? (r.text ?? '') : JSON.stringify(r.json);
          res.writeHead(r.status, { ...(r.json === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers });
          res.end(text);
        };
        if (faults.delayMs) await new Promise((ok) => setTimeout(ok, faults.delayMs));
        const t = faults.throttle;
        if (t && throttleLeft > 0 && (t.match?.(rec) ?? true)) {
          throttleLeft--;
          throttled++;
          send({ status: t.status ?? 429, headers: { 'retry-after': String(t.retryAfterSeconds ?? 1) }, json: { error: 'throttled by the simulator' } });
          return;
        }
        if (options.rateLimit) {
          const now = Date.now();
          while (recent.length && recent[0]! <= now - options.rateLimit.windowMs) recent.shift();
          if (recent.length >= options.rateLimit.requests) {
            throttled++;
            const wait = Math.max(1, Math.ceil((recent[0]! + options.rateLimit.windowMs - now) / 1000));
            send({ status: 429, headers: { 'retry-after': String(wait) }, json: { error: 'rate limit exceeded' } });
            return;
          }
          recent.push(now);
        }
        const cut = faults.cut;
        const cutThis = cut !== undefined && cutLeft > 0 && cut.match(rec);
        if (cutThis) cutLeft--;
        if (cutThis && cut.when === 'before') {
          req.socket.destroy();
          return;
        }
        const url = new URL(rec.url, 'https://127.0.0.1');
        let answer: SimResponse;
        try {
          answer = await handler({
            ...rec,
            path: url.pathname,
            query: url.searchParams,
            json: <T,>() => {
              try {
                return JSON.parse(body) as T;
              } catch {
                return undefined;
              }
            },
            form: () => new URLSearchParams(body),
          });
        } catch (e) {
          answer = { status: 500, json: { error: `simulator failure: ${e instanceof Error ? e.message : String(e)}` } };
        }
        if (cutThis) {
          req.socket.destroy();
          return;
        }
        send(answer);
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    requests,
    throttled: () => throttled,
    setFaults(f) {
      faults = f;
      throttleLeft = f.throttle?.count ?? 0;
      cutLeft = f.cut ? (f.cut.count ?? 1) : 0;
    },
    stop: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** Requests (URL, headers and, unless `bodies` is false, bodies) in which `needle` appears, as sent or URL-encoded. */
export function requestsContaining(requests: readonly RecordedRequest[], needle: string, where: { bodies?: boolean } = {}): RecordedRequest[] {
  const forms = [needle, encodeURIComponent(needle), JSON.stringify(needle).slice(1, -1)];
  return requests.filter((r) => {
    const text = [r.url, ...Object.values(r.headers), ...(where.bodies === false ? [] : [r.body])].join('\n');
    return forms.some((f) => text.includes(f));
  });
}
