import { describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { answerLogin, type LoginAnswers, type LoginConversation } from '../../../layers/expect/login.js';
import { ExpectSession } from '../../../layers/expect/session.js';
import { FakeStream } from './fake-stream.js';

const PASSWORD = 'Qz7-login-pw';

const CONVERSATION: LoginConversation = {
  username: /Username: ?$/,
  password: /Password: ?$/,
  refused: /Access denied|Login incorrect/,
  ready: [/\nsw#\s*$/, /\nsw>\s*$/],
  stops: [{ pattern: /Accept this agreement y\/\[n\] ?$/, message: 'a license is waiting to be accepted' }],
  more: [/Press any key to continue\s*$/],
  newline: '\r',
  who: 'the switch',
  what: 'the login',
};

/** A target scripted by what is typed: `answer(typed)` is what it says next. */
function login(answer: (typed: string) => string | undefined, answers: Partial<LoginAnswers> = {}, conversation = CONVERSATION) {
  const stream = new FakeStream();
  const session = new ExpectSession(stream, { redactor: new Redactor(), timeoutMs: 300, name: 'test login' });
  stream.onWrite = (typed) => {
    const next = answer(typed);
    if (next !== undefined) setImmediate(() => stream.push(next));
  };
  const done = answerLogin(session, conversation, { username: 'ops', password: new Secret(PASSWORD), ...answers });
  return { stream, session, done };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

describe('answerLogin: the one login conversation of Unix Telnet shells and device CLIs', () => {
  it('types the user name and the password with the dialect newline and returns the index of the ready prompt seen', async () => {
    const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : '\r\nsw> '));
    stream.push('Username: ');
    expect(await done).toBe(1);
    expect(stream.sent).toBe(`ops\r${PASSWORD}\r`);
  });

  it('answers a password prompt alone (a line password) and dismisses "press any key" with a space', async () => {
    const { stream, done } = login((typed) => (typed === ' ' ? 'Password: ' : '\r\nsw# '), { username: undefined });
    stream.push('Press any key to continue ');
    expect(await done).toBe(0);
    expect(stream.sent).toBe(` ${PASSWORD}\r`);
  });

  it('a refusal after the password is AuthenticationError with the target\'s words and without the password', async () => {
    const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : '\r\nAccess denied\r\n'));
    stream.push('Username: ');
    const e = await failure(done);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toBe('the switch refused the login of "ops": "Access denied"');
    expect(e.message).not.toContain(PASSWORD);
  });

  it('a banner saying "Access denied" before anything was typed is not a refusal', async () => {
    const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : '\r\nsw> '));
    stream.push('WARNING: Access denied to unauthorized users.\r\nUsername: ');
    expect(await done).toBe(1);
  });

  it('the user name asked twice is refused, typed once', async () => {
    const { stream, done } = login(() => '\r\nUsername: ');
    stream.push('Username: ');
    const e = await failure(done);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e.message).toMatch(/refused the login of "ops": it asked for the user name twice/);
    expect(stream.sent).toBe('ops\r');
  });

  it('the user name asked again after the password, or the password asked again, is refused without the password in the message', async () => {
    for (const again of ['Username: ', 'Password: ']) {
      // A target that echoes the password it refuses: the message quotes it redacted.
      const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : `${PASSWORD}\r\n% Bad passwords\r\n${again}`));
      stream.push('Username: ');
      const e = await failure(done);
      expect(e).toBeInstanceOf(AuthenticationError);
      expect(e.message).toMatch(again.startsWith('U') ? /asked for the user name again after the password \("\[REDACTED\] % Bad passwords"\)/ : /asked for the password again \("\[REDACTED\] % Bad passwords"\)/);
      expect(e.message).not.toContain(PASSWORD);
      expect(stream.sent).toBe(`ops\r${PASSWORD}\r`);
    }
  });

  it('a password outside ASCII on a 7-bit link is InvalidConfigurationError(password), refused before anything is typed', async () => {
    const { stream, done } = login(() => '\r\nPassword: ', { password: new Secret('pässwört-1'), link: { binary: false } });
    stream.push('Username: ');
    const e = await failure(done);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('password');
    expect(e.message).toMatch(/binary mode/);
    expect(stream.sent).toBe('');
  });

  it('the same password goes out on a link that agreed to binary mode, or on one with no such limit', async () => {
    for (const link of [{ binary: true }, {}]) {
      const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : '\r\nsw# '), { password: new Secret('pässwört-1'), link });
      stream.push('Username: ');
      expect(await done).toBe(0);
      expect(stream.sent).toBe('ops\rpässwört-1\r');
    }
  });

  it('a stop is TargetUnchangedError(message), nothing typed in reply', async () => {
    const { stream, done } = login(() => undefined);
    stream.push('Accept this agreement y/[n] ');
    const e = await failure(done);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(e.message).toBe('a license is waiting to be accepted');
    expect(stream.sent).toBe('');
  });

  it('with readyOnlyAfterPassword, a banner ending like a prompt is not taken for one', async () => {
    const { stream, done } = login((typed) => (typed.startsWith('ops') ? '\r\nPassword: ' : '\r\nsw> '), {}, { ...CONVERSATION, readyOnlyAfterPassword: true });
    stream.push('Welcome\r\nsw> ');
    stream.push('\r\nUsername: ');
    expect(await done).toBe(1);
    expect(stream.sent).toBe(`ops\r${PASSWORD}\r`);
  });
});
