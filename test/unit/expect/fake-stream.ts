import type { CloseInfo, Stream, StreamHandlers } from '../../../layers/expect/stream.js';

/** A Stream driven by the test: `push` is the target speaking, `written` what the session sent. */
export class FakeStream implements Stream {
  readonly written: Buffer[] = [];
  ended = false;
  closeCalls = 0;
  #handlers: StreamHandlers | undefined;
  #closed = false;
  /** Called on every write, to script the target's answers. */
  onWrite: ((text: string) => void) | undefined;

  subscribe(handlers: StreamHandlers): void {
    this.#handlers = handlers;
  }

  write(bytes: Buffer): void {
    this.written.push(Buffer.from(bytes));
    this.onWrite?.(bytes.toString('utf8'));
  }

  end(): void {
    this.ended = true;
  }

  close(): void {
    this.closeCalls++;
    this.emitClose({});
  }

  push(data: string | Buffer): void {
    if (this.#closed) return;
    this.#handlers!.data(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** Pushes `data` cut at the given byte offsets. */
  pushSplit(data: string | Buffer, cuts: readonly number[]): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut > from) this.push(bytes.subarray(from, cut));
      from = Math.max(from, cut);
    }
  }

  emitClose(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers!.close(info);
  }

  get sent(): string {
    return Buffer.concat(this.written).toString('utf8');
  }
}
