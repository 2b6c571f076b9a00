import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Redactor, REDACTED } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ExpectSession, expectFailureReason } from '../../../layers/expect/session.js';
import { exitStatusMarker, marker, prepareShell } from '../../../layers/expect/shell.js';
import { FakeStream } from './fake-stream.js';

function session(stream: FakeStream, options: { timeoutMs?: number; maxBufferBytes?: number; redactor?: Redactor } = {}): ExpectSession {
  return new ExpectSession(stream, { redactor: options.redactor ?? new Redactor(), timeoutMs: options.timeoutMs ?? 1000, maxBufferBytes: options.maxBufferBytes, name: 'test stream' });
}

/** Prompts as real targets print them (Debian passwd and su, AIX, Solaris, busybox, a localized PAM, telnetd). */
const PROMPTS: { name: string; output: string; pattern: RegExp; before: string }[] = [
  { name: 'Debian passwd', output: 'Changing password for usr_x.\r\nCurrent password: ', pattern: /password\s*:\s*$/i, before: 'Changing password for usr_x.\r\nCurrent ' },
  { name: 'AIX passwd', output: 'Changing password for "usr_x"\r\nusr_x\'s Old password: ', pattern: /password\s*:\s*$/i, before: 'Changing password for "usr_x"\r\nusr_x\'s Old ' },
  { name: 'Solaris passwd', output: 'passwd: Changing password for usr_x\r\nNew Password: ', pattern: /password\s*:\s*$/i, before: 'passwd: Changing password for usr_x\r\nNew ' },
  { name: 'Spanish PAM (multibyte)', output: 'Cambiando la contraseña de usr_x.\r\nContraseña actual: ', pattern: /contraseña actual: $/i, before: 'Cambiando la contraseña de usr_x.\r\n' },
  { name: 'telnetd login', output: '\r\nDebian GNU/Linux 12\r\nvm login: ', pattern: /login:\s*$/i, before: '\r\nDebian GNU/Linux 12\r\nvm ' },
  { name: 'exit status marker', output: 'passwd: password updated successfully\r\nRPR-RC-0a1b2c:0\r\nRPR-0a1b2c> ', pattern: /RPR-RC-0a1b2c:(\d+)\r?\n/, before: 'passwd: password updated successfully\r\n' },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('expect: matching across chunks', () => {
  for (const p of PROMPTS) {
    it(`matches the ${p.name} prompt split at every byte position`, async () => {
      const bytes = Buffer.from(p.output, 'utf8');
      for (let cut = 0; cut <= bytes.length; cut++) {
        const stream = new FakeStream();
        const s = session(stream);
        const waiting = s.expect([/never matches/, p.pattern]);
        stream.pushSplit(bytes, [cut]);
        const m = await waiting;
        expect(m.index, `cut at ${cut}`).toBe(1);
        expect(m.before, `cut at ${cut}`).toBe(p.before);
      }
    });

    it(`matches the ${p.name} prompt fed one byte at a time, and not before its last byte`, async () => {
      const bytes = Buffer.from(p.output, 'utf8');
      const stream = new FakeStream();
      const s = session(stream);
      let settled = false;
      const waiting = s.expect([p.pattern]).finally(() => (settled = true));
      // The first prefix the pattern matches, decoded whole (a cut UTF-8 character is not text yet).
      let firstMatch = 0;
      while (!p.pattern.test(bytes.subarray(0, firstMatch).toString('utf8').replace(/\ufffd$/, ''))) firstMatch++;
      expect(firstMatch).toBeGreaterThan(p.output.length / 2);
      for (let i = 0; i < bytes.length; i++) {
        stream.push(bytes.subarray(i, i + 1));
        await Promise.resolve();
        expect(settled, `after byte ${i + 1}, first match at ${firstMatch}`).toBe(i + 1 >= firstMatch);
      }
      await waiting;
    });
  }

  it('reads output that arrived before the wait, and keeps what follows the match for the next wait', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    stream.push('New password: Retype new password: ');
    expect((await s.expect([/password: /])).before).toBe('New ');
    expect((await s.expect([/password: /])).before).toBe('Retype new ');
  });

  it('takes the first pattern of the list that matches, and ignores g and y flags', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    stream.push('Sorry, try again.\r\nRPR-PW-1: ');
    const sticky = /RPR-PW-1: $/gy;
    expect((await s.expect([sticky, /Sorry/])).index).toBe(0);
    expect(sticky.lastIndex).toBe(0);
  });
});

describe('expect: a scripted dialog split at every position', () => {
  const current = new Secret('Cur "pass" \\ $(x)');
  const next = new Secret('Nëw-pass `id` ; \' é');
  const script = [
    'Changing password for usr_x.\r\nCurrent password: ',
    '\r\nNew password: ',
    '\r\nRetype new password: ',
    '\r\npasswd: password updated successfully\r\n',
  ];

  it('answers each prompt once with the right secret, and the transcript shows neither', async () => {
    const longest = Math.max(...script.map((t) => Buffer.byteLength(t)));
    for (let cut = 0; cut <= longest; cut++) {
      const stream = new FakeStream();
      const s = session(stream);
      let step = 0;
      const speak = () => stream.pushSplit(script[step++]!, [cut]);
      stream.onWrite = () => queueMicrotask(speak);
      speak();
      const answers: string[] = [];
      for (;;) {
        const m = await s.expect([/password updated successfully/, /(current|old) password: $/i, /password: $/i]);
        if (m.index === 0) break;
        const secret = m.index === 1 ? current : next;
        answers.push(m.index === 1 ? 'current' : 'new');
        s.sendSecret(secret, '\n');
      }
      expect(answers, `cut at ${cut}`).toEqual(['current', 'new', 'new']);
      expect(stream.sent).toBe(`${current.reveal()}\n${next.reveal()}\n${next.reveal()}\n`);
      const transcript = s.transcript();
      expect(transcript).not.toContain(current.reveal());
      expect(transcript).not.toContain(next.reveal());
      expect(transcript.split(REDACTED).length - 1).toBe(3);
    }
  });
});

describe('expect: settle once', () => {
  it('rejects a wait when the stream closes, with TargetUnchangedError before the change was sent', async () => {
    vi.useFakeTimers();
    const stream = new FakeStream();
    const s = session(stream);
    const waiting = s.expect([/password: $/]);
    stream.push('Changing password');
    stream.emitClose({ error: new Error('read ECONNRESET') });
    const e = await waiting.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(expectFailureReason(e)).toBe('closed');
    expect((e as Error).message).toContain('ECONNRESET');
    expect(vi.getTimerCount()).toBe(0);
    // Nothing settles twice: the deadline passing and more events change nothing.
    vi.advanceTimersByTime(5000);
    stream.push('password: ');
    await expect(s.expect([/x/])).rejects.toBeInstanceOf(TargetUnchangedError);
  });

  it('rejects with OutcomeUnknownError when the stream closes after the change was sent', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    s.markChangeSent();
    const waiting = s.expect([/updated/]);
    stream.emitClose({});
    await expect(waiting).rejects.toBeInstanceOf(OutcomeUnknownError);
  });

  it('times out with TargetTimeoutError before the change, OutcomeUnknownError after, and clears its timer', async () => {
    vi.useFakeTimers();
    const stream = new FakeStream();
    const s = session(stream, { timeoutMs: 3000 });
    const first = s.expect([/password: $/]).catch((x: unknown) => x);
    vi.advanceTimersByTime(2999);
    stream.push('slow...');
    vi.advanceTimersByTime(1);
    const e1 = await first;
    expect(e1).toBeInstanceOf(TargetTimeoutError);
    expect(expectFailureReason(e1)).toBe('timeout');
    expect((e1 as Error).message).toContain('slow...');
    expect(vi.getTimerCount()).toBe(0);
    // A late close after the timeout does not settle anything again.
    s.markChangeSent();
    const second = s.expect([/updated/], { timeoutMs: 50 }).catch((x: unknown) => x);
    vi.advanceTimersByTime(50);
    expect(await second).toBeInstanceOf(OutcomeUnknownError);
    stream.emitClose({});
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves, not rejects, when the match and the close arrive together', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const waiting = s.expect([/successfully/]);
    stream.push('passwd: password updated successfully\r\n');
    stream.emitClose({ exitCode: 0 });
    await expect(waiting).resolves.toMatchObject({ index: 0 });
    await expect(s.expectClose()).resolves.toEqual({ info: { exitCode: 0 }, output: '\r\n' });
  });

  it('settles a wait begun after the close from what was buffered, or rejects it at once', async () => {
    vi.useFakeTimers();
    const stream = new FakeStream();
    const s = session(stream);
    stream.push('chpasswd: line 1: user does not exist\n');
    stream.emitClose({ exitCode: 1 });
    await expect(s.expect([/does not exist/])).resolves.toMatchObject({ index: 0 });
    await expect(s.expect([/more/])).rejects.toBeInstanceOf(TargetUnchangedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a second wait while one is pending, and leaves the first one intact', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const first = s.expect([/a/]);
    await expect(s.expect([/b/])).rejects.toThrow(/one wait at a time/);
    stream.push('a');
    await expect(first).resolves.toMatchObject({ index: 0 });
  });

  it('waits for the end of a command and returns its exit status and output', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const waiting = s.expectClose();
    stream.push('Sorry, try again.\n');
    stream.emitClose({ exitCode: 1 });
    await expect(waiting).resolves.toEqual({ info: { exitCode: 1 }, output: 'Sorry, try again.\n' });
  });

  it('cannot send on a closed stream', () => {
    const stream = new FakeStream();
    const s = session(stream);
    stream.emitClose({});
    expect(() => s.send('x')).toThrow(TargetUnchangedError);
  });
});

describe('expect: bounded buffer', () => {
  it('fails a wait when more than the limit arrives without a match', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const waiting = s.expect([/password: $/]);
    stream.push('x'.repeat(64 * 1024));
    stream.push('y');
    const e = await waiting.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(expectFailureReason(e)).toBe('overflow');
  });

  it('fails the next wait when the output overflowed while nothing waited, as OutcomeUnknownError after the change', async () => {
    const stream = new FakeStream();
    const s = session(stream, { maxBufferBytes: 100 });
    stream.push('z'.repeat(101));
    s.markChangeSent();
    const e = await s.expect([/z/]).catch((x: unknown) => x);
    // The match is still found in what is held: output is never silently dropped.
    expect(e).toMatchObject({ index: 0 });
    const e2 = await s.expect([/never/]).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(OutcomeUnknownError);
    expect(expectFailureReason(e2)).toBe('overflow');
  });

  it('counts bytes, not characters', async () => {
    const stream = new FakeStream();
    const s = session(stream, { maxBufferBytes: 10 });
    const waiting = s.expect([/never/]);
    stream.push('ééééé'); // 10 bytes
    stream.push('é');
    await expect(waiting).rejects.toMatchObject({ cause: { reason: 'overflow' } });
  });
});

describe('expect: secrets stay out of transcripts and errors', () => {
  const secret = new Secret('S3cret "q" \\ $HOME ü');

  it('writes the secret but records [REDACTED], also when the target echoes it back split across chunks', async () => {
    const bytes = Buffer.from(`Password: ${secret.reveal()}\r\nstill waiting`, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const stream = new FakeStream();
      const s = session(stream, { timeoutMs: 5 });
      s.sendSecret(secret, '\n');
      expect(stream.sent).toBe(`${secret.reveal()}\n`);
      stream.pushSplit(bytes, [cut]);
      const e = (await s.expect([/never/]).catch((x: unknown) => x)) as Error;
      expect(e).toBeInstanceOf(TargetTimeoutError);
      for (const text of [e.message, String(e.stack), (e.cause as Error).message, s.transcript()]) {
        expect(text).not.toContain(secret.reveal());
        expect(text).not.toContain(JSON.stringify(secret.reveal()).slice(1, -1));
      }
      expect(s.transcript()).toContain(REDACTED);
    }
  });

  it('never keeps part of a secret when the transcript is cut to its bound', () => {
    const stream = new FakeStream();
    const s = session(stream);
    s.sendSecret(secret);
    for (let i = 0; i < 20; i++) stream.push(`${'-'.repeat(2000 + i)}${secret.reveal()}`);
    const t = s.transcript();
    expect(t.length).toBeLessThanOrEqual(40 * 1024);
    const value = secret.reveal();
    for (let len = 6; len <= value.length; len++) {
      for (let at = 0; at + len <= value.length; at++) expect(t).not.toContain(value.slice(at, at + len));
    }
  });

  it('redacts secrets the context knows, even ones this session never sent', async () => {
    const known = new Secret('root-Pa55word');
    const stream = new FakeStream();
    const s = session(stream, { redactor: new Redactor([known]), timeoutMs: 5 });
    stream.push(`echo: ${known.reveal()}`);
    const e = (await s.expect([/never/]).catch((x: unknown) => x)) as Error;
    expect(e.message).not.toContain(known.reveal());
  });
});

describe('shell markers', () => {
  it('print text that the echo of their own command does not contain', () => {
    for (const m of [marker('ROOT', 'abc123'), exitStatusMarker('abc123')]) {
      expect(m.pattern.test(`${m.command}\r\n`)).toBe(false);
    }
    expect(exitStatusMarker('abc123').pattern.exec('RPR-RC-abc123:127\r\n')?.[1]).toBe('127');
  });

  it('prepareShell waits for the distinctive prompt, not for the echo of the line that sets it', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    let settled = false;
    const ready = prepareShell(s).finally(() => (settled = true));
    const line = stream.sent;
    expect(line).toMatch(/^stty -echo; exec env PS1='RPR''-[0-9a-f]+> ' /);
    stream.push(`${line.replace('\n', '\r\n')}`);
    await Promise.resolve();
    expect(settled).toBe(false);
    const token = /RPR''-([0-9a-f]+)>/.exec(line)![1];
    stream.push(`RPR-${token}> `);
    await expect(ready).resolves.toMatchObject({ token });
  });
});
