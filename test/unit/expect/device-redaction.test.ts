import { describe, expect, it } from 'vitest';
import { OutcomeUnknownError } from '../../../layers/engine/errors.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DeviceSession } from '../../../layers/expect/device.js';
import { FAKE_DIALECT } from './fake-device.js';
import { FakeStream } from './fake-stream.js';

const LOGIN = 'Lp9!qZ-login';
const ENABLE = 'En4@bleXyz';
const NEW = 'Zq8#xW!v3Lp';

/**
 * One device conversation: what the session types (each a line), and the device's answer. The
 * echoes are the hard cases: a whole echo, a wrapped one, one with backspace erasure, IOS's
 * horizontal scroll ("$" and an erase-line escape), an error message quoting part of the password,
 * and a device that echoes part of a password typed at a no-echo prompt.
 */
const CONVERSATION: { typed?: string; answer: string }[] = [
  { answer: '\r\nUser Access Verification\r\n\r\nUsername: ' },
  { typed: 'admin\n', answer: 'admin\r\nPassword: ' },
  { typed: `${LOGIN}\n`, answer: 'Lp9!q\r\n\r\nR1>' },
  { typed: 'terminal length 0\n', answer: 'terminal length 0\r\nR1>' },
  { typed: 'enable\n', answer: 'enable\r\nPassword: ' },
  { typed: `${ENABLE}\n`, answer: '\r\nR1#' },
  { typed: 'configure terminal\n', answer: 'configure terminal\r\nEnter configuration commands, one per line.  End with CNTL/Z.\r\nR1(config)#' },
  { typed: `username bob secret ${NEW}\n`, answer: `username bob secret Zq8#x\r\nW!v3\b\b\b\bW!v3Lp\r\nR1(config)#` },
  { typed: `username carol secret ${NEW}\n`, answer: `$ol secret Zq8#xW!v3Lp\x1b[K\r\n% Invalid input detected near 'Zq8#xW!v' (${ENABLE.slice(2, 8)})\r\nR1(config)#` },
  { typed: 'end\n', answer: 'end\r\nR1#' },
];

/** Text with terminal noise removed, as a reader would see it. */
function readable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x1f\x7f]/g, '');
}

/** Every run of 4 characters of the secret that appears in the text. */
function fragments(text: string, secret: string): string[] {
  const t = readable(text);
  const found: string[] = [];
  for (let i = 0; i + 4 <= secret.length; i++) if (t.includes(secret.slice(i, i + 4))) found.push(secret.slice(i, i + 4));
  return found;
}

/** Plays the conversation on a FakeStream; the device's whole output is cut at `cut` (a byte offset), or sent a byte at a time. */
function scriptedDevice(cut: number | 'bytes'): { stream: FakeStream; start(): void; typed: string[] } {
  const stream = new FakeStream();
  const typed: string[] = [];
  let step = 0;
  let offset = 0;
  let pending = '';
  const answer = () => {
    const bytes = Buffer.from(CONVERSATION[step]!.answer, 'utf8');
    if (cut === 'bytes') for (let i = 0; i < bytes.length; i++) stream.push(bytes.subarray(i, i + 1));
    else stream.pushSplit(bytes, [cut - offset]);
    offset += bytes.length;
    step++;
  };
  stream.onWrite = (text) => {
    pending += text;
    if (!pending.endsWith('\n')) return;
    typed.push(pending);
    const expected = CONVERSATION[step]?.typed;
    pending = '';
    if (expected === undefined) return stream.emitClose({});
    expect(typed.at(-1)).toBe(expected);
    answer();
  };
  return { stream, start: answer, typed };
}

const TOTAL = CONVERSATION.reduce((n, s) => n + Buffer.byteLength(s.answer, 'utf8'), 0);

async function play(cut: number | 'bytes'): Promise<{ texts: string[]; unknown: unknown }> {
  const device = scriptedDevice(cut);
  const opening = DeviceSession.open(device.stream, FAKE_DIALECT, { redactor: new Redactor(), timeoutMs: 500, login: { username: 'admin', password: new Secret(LOGIN) } });
  device.start();
  const s = await opening;
  await s.enable(new Secret(ENABLE));
  await s.configure();
  const first = await s.command(['username bob secret ', new Secret(NEW)], { change: true });
  const unknown = await s.command(['username carol secret ', new Secret(NEW)], { change: true, refusals: [/Can not have both/] }).catch((e: unknown) => e);
  await s.close();
  const e = unknown as Error;
  const texts = [s.transcript(), first.output, e.message, String((e.cause as Error | undefined)?.message), JSON.stringify(s.redactor.redactDeep({ e }))];
  return { texts, unknown };
}

describe('device session: echo redaction', () => {
  it('the fragment rule: 4 consecutive characters of a typed secret are hidden, through noise; 3 are not', () => {
    const r = new Redactor().withFragments(new Secret(NEW));
    expect(r.redact('x Zq8# y')).toBe('x [REDACTED] y');
    expect(r.redact('x Zq8\r\n#xW y')).toBe('x [REDACTED] y');
    expect(r.redact('x Zq8 y')).toBe('x Zq8 y');
    expect(new Redactor().withFragments('ab1').redact('ab1 ab1x')).toBe('[REDACTED] [REDACTED]x');
    // Existing users of with() are unchanged: no fragments.
    expect(new Redactor().with(new Secret(NEW)).redact('x Zq8# y')).toBe('x Zq8# y');
    // with() keeps the fragments of the redactor it extends.
    expect(r.with('other-secret').redact('W!v3')).toBe('[REDACTED]');
  });

  it(`shows no fragment of any password typed, with the device output cut at each of its ${TOTAL + 1} byte positions, and fed a byte at a time`, async () => {
    const cuts: (number | 'bytes')[] = [...Array.from({ length: TOTAL + 1 }, (_, i) => i), 'bytes'];
    for (const cut of cuts) {
      const { texts, unknown } = await play(cut);
      expect(unknown, `cut at ${cut}`).toBeInstanceOf(OutcomeUnknownError);
      expect((unknown as Error).message, `cut at ${cut}`).toContain('% Invalid input detected');
      for (const [i, text] of texts.entries()) {
        for (const secret of [LOGIN, ENABLE, NEW]) expect(fragments(text, secret), `cut at ${cut}, text ${i}: ${JSON.stringify(text)}`).toEqual([]);
      }
    }
  });

  it('the test can fail: the same conversation without fragment redaction shows the echo', async () => {
    const { texts } = await play(0);
    expect(texts[0]).toContain('[REDACTED]');
    // Whole-secret redaction alone (the Redactor's default) leaves the wrapped echo readable.
    const plain = new Redactor().with(new Secret(NEW));
    expect(fragments(plain.redact('username bob secret Zq8#x\r\nW!v3\b\b\b\bW!v3Lp\r\n'), NEW).length).toBeGreaterThan(0);
  });
});
