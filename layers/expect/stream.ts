/** How a stream ended. An exec channel reports the command's exit; a lost connection reports neither. */
export interface CloseInfo {
  /** The remote command's exit status, when the transport reports one. */
  readonly exitCode?: number;
  /** The signal that ended the remote command, when the transport reports one. */
  readonly signal?: string;
  /** Why the stream ended abnormally (connection reset, transport error). */
  readonly error?: Error;
}

export interface StreamHandlers {
  data(chunk: Buffer): void;
  close(info: CloseInfo): void;
}

/**
 * Any byte stream the expect engine can talk over: an SSH channel, a Telnet socket, a fake in tests.
 * `subscribe` is called once by the session; a stream reports `close` at most once.
 */
export interface Stream {
  write(bytes: Buffer): void;
  /** No more input: EOF on the remote command's standard input. */
  end(): void;
  /** Tears the stream down; `close` is reported to the subscriber. */
  close(): void;
  subscribe(handlers: StreamHandlers): void;
  /** Telnet: whether the server agreed to binary mode (false: a 7-bit link). Undefined on 8-bit transports (SSH). */
  readonly binary?: boolean;
}
