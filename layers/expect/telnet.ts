import { connect, type Socket } from 'node:net';
import { TargetTimeoutError, TargetUnchangedError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import type { CloseInfo, Stream, StreamHandlers } from './stream.js';
import { SHELL_CLIENT_OPTIONS, TelnetCodec, type TelnetOptionPolicy } from './telnet-codec.js';

export interface TelnetConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly options?: TelnetOptionPolicy;
  readonly log?: Log;
}

/** A Telnet Stream, which also says whether it can carry 8-bit data. */
export interface TelnetStreamInfo extends Stream {
  /** True when the server agreed that we send in binary mode (RFC 856): UTF-8 arrives intact. */
  readonly binary: boolean;
}

/**
 * A Telnet connection as a Stream: option negotiation is answered inside, data is
 * IAC-escaped on the way out and unescaped on the way in. Failures to connect are
 * TargetTimeoutError (no answer) or TargetUnchangedError (refused): nothing was sent.
 */
export function connectTelnet(options: TelnetConnectOptions): Promise<TelnetStreamInfo> {
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TargetTimeoutError(`${where} did not accept a Telnet connection within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(new TargetUnchangedError(`could not connect to ${where} over Telnet: ${e.message}`, { cause: e }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new TelnetStream(socket, new TelnetCodec(options.options ?? SHELL_CLIENT_OPTIONS)));
    });
  });
}

class TelnetStream implements TelnetStreamInfo {
  readonly #socket: Socket;
  readonly #codec: TelnetCodec;
  #handlers: StreamHandlers | undefined;
  readonly #pending: Buffer[] = [];
  #error: Error | undefined;
  #closeInfo: CloseInfo | undefined;

  constructor(socket: Socket, codec: TelnetCodec) {
    this.#socket = socket;
    this.#codec = codec;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const { data, replies } = this.#codec.decode(chunk);
      if (replies.length && !socket.destroyed) socket.write(replies);
      if (!data.length) return;
      if (this.#handlers) this.#handlers.data(data);
      else this.#pending.push(data);
    });
    socket.on('error', (e: Error) => {
      this.#error = e;
    });
    socket.on('close', () => {
      this.#closeInfo = this.#error ? { error: this.#error } : {};
      this.#handlers?.close(this.#closeInfo);
    });
  }

  get binary(): boolean {
    return this.#codec.binary;
  }

  subscribe(handlers: StreamHandlers): void {
    this.#handlers = handlers;
    for (const chunk of this.#pending.splice(0)) handlers.data(chunk);
    if (this.#closeInfo) handlers.close(this.#closeInfo);
  }

  write(bytes: Buffer): void {
    this.#socket.write(this.#codec.encode(bytes));
  }

  end(): void {
    this.#socket.end();
  }

  close(): void {
    this.#socket.destroy();
  }
}
