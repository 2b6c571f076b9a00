import { describe, expect, it } from 'vitest';
import { DO, DONT, IAC, OPTION, SB, SE, TelnetCodec, WILL, WONT } from '../../../layers/expect/telnet-codec.js';

/** What inetutils telnetd (Debian 12) sent to a new client, chunk by chunk, up to its login prompt. */
const TELNETD_GREETING = ['fffb25fffb26fffd18fffd20fffd23fffd27fffd24', 'fffb03fffd01fffd22fffd1ffffb05fffd21', 'fffb01fffd06fffd00', '766d206c6f67696e3a20'].map((h) =>
  Buffer.from(h, 'hex'),
);

function decodeAll(codec: TelnetCodec, chunks: readonly Buffer[]): { data: Buffer; replies: Buffer } {
  const data: Buffer[] = [];
  const replies: Buffer[] = [];
  for (const c of chunks) {
    const r = codec.decode(c);
    data.push(r.data);
    replies.push(r.replies);
  }
  return { data: Buffer.concat(data), replies: Buffer.concat(replies) };
}

function cuts(bytes: Buffer, at: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  return out;
}

/** Triples IAC VERB OPTION of a reply, as readable strings. */
function verbs(replies: Buffer): string[] {
  const names: Record<number, string> = { [DO]: 'DO', [DONT]: 'DONT', [WILL]: 'WILL', [WONT]: 'WONT' };
  const out: string[] = [];
  for (let i = 0; i < replies.length; i += 3) {
    expect(replies[i]).toBe(IAC);
    out.push(`${names[replies[i + 1]!]} ${replies[i + 2]}`);
  }
  return out;
}

describe('Telnet codec: decoding', () => {
  it("answers telnetd's negotiation: SGA, binary sending and the server's echo accepted, everything else refused", () => {
    const { data, replies } = decodeAll(new TelnetCodec(), TELNETD_GREETING);
    expect(data.toString()).toBe('vm login: ');
    expect(verbs(replies)).toEqual([
      'DONT 37', // WILL AUTHENTICATION
      'DONT 38', // WILL ENCRYPT
      'WONT 24', // DO TTYPE
      'WONT 32', // DO TSPEED
      'WONT 35', // DO XDISPLOC
      'WONT 39', // DO NEW-ENVIRON
      'WONT 36', // DO OLD-ENVIRON
      `DO ${OPTION.SGA}`,
      `WONT ${OPTION.ECHO}`, // the server asked us to echo: no
      `WONT ${OPTION.LINEMODE}`,
      `WONT ${OPTION.NAWS}`,
      'DONT 5', // WILL STATUS
      `WONT ${OPTION.LFLOW}`,
      `DO ${OPTION.ECHO}`,
      'WONT 6', // DO TIMING-MARK
      `WILL ${OPTION.BINARY}`,
    ]);
  });

  it('gives the same data and replies whatever the split, at every byte position (two and three pieces)', () => {
    const sb = Buffer.from([IAC, SB, OPTION.TTYPE, 1, IAC, IAC, 0x41, IAC, SE]);
    const wire = Buffer.concat([
      ...TELNETD_GREETING,
      Buffer.from('Pass\xff\xffword\r\0line\r\n', 'latin1'),
      Buffer.from([IAC, IAC, 0x20, IAC, 241 /* NOP */, IAC, WILL, OPTION.SGA]),
      sb,
      Buffer.from('$ ', 'latin1'),
    ]);
    const whole = decodeAll(new TelnetCodec(), [wire]);
    expect(whole.data.toString('latin1')).toBe('vm login: Pass\xffword\rline\r\n\xff $ ');
    for (let a = 0; a <= wire.length; a++) {
      expect(decodeAll(new TelnetCodec(), cuts(wire, [a])), `cut at ${a}`).toEqual(whole);
      for (let b = a; b <= wire.length; b += 7) expect(decodeAll(new TelnetCodec(), cuts(wire, [a, b])), `cuts at ${a}, ${b}`).toEqual(whole);
    }
    // One byte at a time.
    expect(decodeAll(new TelnetCodec(), [...wire].map((x) => Buffer.from([x])))).toEqual(whole);
  });

  it('replies only when an option changes state, so a repeated or echoed request cannot start a loop', () => {
    const codec = new TelnetCodec();
    expect(verbs(codec.decode(Buffer.from([IAC, DO, OPTION.SGA, IAC, DO, OPTION.SGA])).replies)).toEqual([`WILL ${OPTION.SGA}`]);
    expect(verbs(codec.decode(Buffer.from([IAC, DONT, OPTION.SGA, IAC, DONT, OPTION.SGA])).replies)).toEqual([`WONT ${OPTION.SGA}`]);
    expect(verbs(codec.decode(Buffer.from([IAC, WONT, OPTION.ECHO])).replies)).toEqual([]);
    expect(verbs(codec.decode(Buffer.from([IAC, WILL, OPTION.ECHO, IAC, WILL, OPTION.ECHO, IAC, WONT, OPTION.ECHO])).replies)).toEqual([
      `DO ${OPTION.ECHO}`,
      `DONT ${OPTION.ECHO}`,
    ]);
    expect(codec.enabled).toEqual({ local: [], remote: [] });
  });

  it('keeps a CR at the end of a chunk and drops the NUL that follows it in the next', () => {
    const codec = new TelnetCodec();
    expect(codec.decode(Buffer.from('a\r')).data.toString()).toBe('a\r');
    expect(codec.decode(Buffer.from([0, 0x62])).data.toString()).toBe('b');
  });
});

describe('Telnet codec: encoding', () => {
  it('doubles IAC bytes and sends NVT line ends', () => {
    const codec = new TelnetCodec();
    expect([...codec.encode(Buffer.from([0x61, 0xff, 0x62, 0xff, 0xff]))]).toEqual([0x61, 0xff, 0xff, 0x62, 0xff, 0xff, 0xff, 0xff]);
    expect(codec.encode(Buffer.from('one\ntwo\r\nthree\rfour')).toString('latin1')).toBe('one\r\ntwo\r\nthree\r\0four');
  });

  it('sends bytes as they are once binary mode is agreed (RFC 856), IAC still doubled', () => {
    const codec = new TelnetCodec();
    expect(codec.binary).toBe(false);
    expect(verbs(codec.decode(Buffer.from([IAC, DO, OPTION.BINARY])).replies)).toEqual([`WILL ${OPTION.BINARY}`]);
    expect(codec.binary).toBe(true);
    expect([...codec.encode(Buffer.from('ä\n\r', 'utf8'))]).toEqual([0xc3, 0xa4, 10, 13]);
    expect([...codec.encode(Buffer.from([0xff]))]).toEqual([0xff, 0xff]);
    codec.decode(Buffer.from([IAC, DONT, OPTION.BINARY]));
    expect(codec.binary).toBe(false);
    expect(codec.encode(Buffer.from('\n')).toString('latin1')).toBe('\r\n');
  });

  it('round-trips any byte string through encode and a decoder, split anywhere', () => {
    // UTF-8 "ÿ" is C3 BF; 0xFF itself appears in raw data and in other encodings.
    const data = Buffer.concat([Buffer.from('pässwörd ÿ ', 'utf8'), Buffer.from([0xff, 0xfe, 0xfd, 0xff, 0x20])]);
    const wire = new TelnetCodec().encode(data);
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(decodeAll(new TelnetCodec(), cuts(wire, [cut])).data, `cut at ${cut}`).toEqual(data);
    }
  });
});
