import { describe, expect, it } from 'vitest';
import { TargetTimeoutError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DeviceSession, type DeviceDialect } from '../../../layers/expect/device.js';
import { FAKE_DIALECT } from './fake-device.js';
import { FakeStream } from './fake-stream.js';

const STOPPING: DeviceDialect = {
  ...FAKE_DIALECT,
  login: { ...FAKE_DIALECT.login, stops: [{ pattern: /Accept this agreement y\/\[n\] ?$/, message: 'a license is waiting to be accepted' }] },
};

describe('device session: questions the login must not answer (login.stops)', () => {
  it('stops at one with TargetUnchangedError(message), answering nothing, and drops the connection', async () => {
    const stream = new FakeStream();
    stream.onWrite = (text) => {
      if (text.startsWith('admin')) setImmediate(() => stream.push('\r\nPassword: '));
      else if (text.startsWith('S3cret')) setImmediate(() => stream.push('\r\nEULA text\r\nAccept this agreement y/[n] '));
    };
    const opening = DeviceSession.open(stream, STOPPING, { redactor: new Redactor(), timeoutMs: 500, login: { username: 'admin', password: new Secret('S3cret-pw') } });
    stream.push('Username: ');
    const e = await opening.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toBe('a license is waiting to be accepted');
    expect(stream.sent).toBe('admin\nS3cret-pw\n');
    expect(stream.closeCalls).toBeGreaterThan(0);
  });

  it('a dialect without stops waits at such a question as at any unknown text (times out)', async () => {
    const stream = new FakeStream();
    const opening = DeviceSession.open(stream, FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: 200, login: { username: 'admin', password: new Secret('S3cret-pw') } });
    stream.push('Accept this agreement y/[n] ');
    const e = await opening.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetTimeoutError);
    expect(stream.sent).toBe('');
  });
});
