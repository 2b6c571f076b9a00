import { describe, expect, it } from 'vitest';
import { DEVICE_CLIENT_OPTIONS, DO, IAC, OPTION, SB, SE, SHELL_CLIENT_OPTIONS, TelnetCodec, WILL, WONT } from '../../../layers/expect/telnet-codec.js';

const { NAWS, TTYPE, ECHO, SGA } = OPTION;
/** IAC SB NAWS 511 x 512, the 0xFF of 511 (0x01FF) doubled (RFC 1073). */
const WINDOW = [IAC, SB, NAWS, 0x01, 0xff, 0xff, 0x02, 0x00, IAC, SE];
const VT100 = [IAC, SB, TTYPE, 0, ...Buffer.from('VT100'), IAC, SE];

/** How a Cisco IOS vty opens a Telnet session (WILL ECHO, WILL SGA, DO TTYPE, DO NAWS), then asks for the type and prompts. */
const GREETING = Buffer.concat([
  Buffer.from([IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, TTYPE, IAC, DO, NAWS]),
  Buffer.from([IAC, SB, TTYPE, 1, IAC, SE]),
  Buffer.from('\r\nUser Access Verification\r\n\r\nUsername: '),
]);

function decodeSplit(policy: typeof DEVICE_CLIENT_OPTIONS, wire: Buffer, at: readonly number[]): { data: number[]; replies: number[] } {
  const codec = new TelnetCodec(policy);
  const data: number[] = [];
  const replies: number[] = [];
  let from = 0;
  for (const cut of [...at, wire.length]) {
    const r = codec.decode(wire.subarray(from, cut));
    data.push(...r.data);
    replies.push(...r.replies);
    from = cut;
  }
  return { data, replies };
}

describe('Telnet codec: window size and terminal type for devices', () => {
  it('answers DO NAWS with WILL NAWS and a 511 x 512 window, IAC-escaped', () => {
    const codec = new TelnetCodec(DEVICE_CLIENT_OPTIONS);
    expect([...codec.decode(Buffer.from([IAC, DO, NAWS])).replies]).toEqual([IAC, WILL, NAWS, ...WINDOW]);
    // Asked again: already agreed, nothing sent (RFC 1143).
    expect([...codec.decode(Buffer.from([IAC, DO, NAWS])).replies]).toEqual([]);
    expect(codec.enabled.local).toContain(NAWS);
  });

  it('answers TTYPE SEND with IS "VT100", only once TTYPE is agreed', () => {
    const codec = new TelnetCodec(DEVICE_CLIENT_OPTIONS);
    expect([...codec.decode(Buffer.from([IAC, SB, TTYPE, 1, IAC, SE])).replies]).toEqual([]);
    expect([...codec.decode(Buffer.from([IAC, DO, TTYPE])).replies]).toEqual([IAC, WILL, TTYPE]);
    expect([...codec.decode(Buffer.from([IAC, SB, TTYPE, 1, IAC, SE])).replies]).toEqual(VT100);
    // A subnegotiation that is not SEND (IS from a confused server) gets no answer.
    expect([...codec.decode(Buffer.from([IAC, SB, TTYPE, 0, 0x41, IAC, SE])).replies]).toEqual([]);
  });

  it("gives an IOS vty's greeting the same data and replies split at every byte position (two and three pieces)", () => {
    const whole = decodeSplit(DEVICE_CLIENT_OPTIONS, GREETING, []);
    expect(Buffer.from(whole.data).toString()).toBe('\r\nUser Access Verification\r\n\r\nUsername: ');
    expect(whole.replies).toEqual([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, TTYPE, IAC, WILL, NAWS, ...WINDOW, ...VT100]);
    for (let a = 0; a <= GREETING.length; a++) {
      expect(decodeSplit(DEVICE_CLIENT_OPTIONS, GREETING, [a]), `cut at ${a}`).toEqual(whole);
      for (let b = a; b <= GREETING.length; b++) expect(decodeSplit(DEVICE_CLIENT_OPTIONS, GREETING, [a, b]), `cuts at ${a}, ${b}`).toEqual(whole);
    }
  });

  it('leaves the shell client as it was: NAWS and TTYPE refused, TTYPE SEND unanswered', () => {
    const r = decodeSplit(SHELL_CLIENT_OPTIONS, GREETING, []);
    expect(r.replies).toEqual([IAC, DO, ECHO, IAC, DO, SGA, IAC, WONT, TTYPE, IAC, WONT, NAWS]);
  });
});
