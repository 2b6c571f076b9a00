import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DeviceSession, type DeviceDialect } from '../../../layers/expect/device.js';
import { FakeStream } from './fake-stream.js';

// A device whose prompt ends in "#" (IOS-like), its prompts matched as whole lines.
const DIALECT: DeviceDialect = {
  prompts: { user: /(?:^|\n)R1>$/, privileged: /(?:^|\n)[^\r\n]*?(?:# ?$)/ },
  login: { username: /Username: ?$/, password: /Password: ?$/, failed: /% Login invalid/ },
  errors: [/% Invalid input/],
  logout: { command: 'exit' },
};

/** A device that echoes each line cut after its first `cut` characters, then answers `answer` and its prompt. */
function device(cut: number, answer: string): FakeStream {
  const s = new FakeStream();
  let line = '';
  s.onWrite = (text) => {
    line += text;
    if (!line.endsWith('\n')) return;
    const typed = line.slice(0, -1);
    line = '';
    if (typed === 'exit') return void setTimeout(() => s.close(), 1);
    setTimeout(() => s.push(typed.slice(0, cut)), 1);
    setTimeout(() => s.push(`${typed.slice(cut)}\r\n${answer}R1# `), 20);
  };
  return s;
}

describe('device session: an echo cut where the typed line holds a prompt character', () => {
  it('waits past the echo of a password holding "#": the answer after it is the output, and the success is seen', async () => {
    const password = 'Ab#cd-ef9';
    const line = `set secret ${password}`;
    const stream = device(line.indexOf('#') + 1, 'Secret changed.\r\n');
    const opening = DeviceSession.open(stream, DIALECT, { redactor: new Redactor(), timeoutMs: 1_000 });
    stream.push('\r\nR1# ');
    const s = await opening;
    const { output } = await s.command(['set secret ', new Secret(password)], { change: true, success: [/Secret changed\./], refusals: [/% Invalid input/] });
    expect(output).toBe('Secret changed.');
    expect(s.transcript()).not.toContain('cd-ef9');
    await s.close();
  });

  it('still ends at the prompt when the echo is whole', async () => {
    const stream = device(10_000, 'done\r\n');
    const opening = DeviceSession.open(stream, DIALECT, { redactor: new Redactor(), timeoutMs: 1_000 });
    stream.push('R1# ');
    const s = await opening;
    expect((await s.command('show x#y')).output).toBe('done');
    await s.close();
  });
});
