import { describe, expect, it } from 'vitest';
import { challengeMessage, ntHash, verifyAuthenticate } from '../../simulators/tds/ntlm.js';

// [MS-NLMP] 4.2.4 (NTLMv2 authentication): User "User", UserDom "Domain", Passwd "Password",
// ServerChallenge 0123456789abcdef, ClientChallenge aaaaaaaaaaaaaaaa.
const SERVER_CHALLENGE = Buffer.from('0123456789abcdef', 'hex');

describe("the TDS simulator's NTLM check", () => {
  it("accepts [MS-NLMP] 4.2.4's LMv2 response for its password, and refuses it for another password, user or challenge", () => {
    const lm = Buffer.from('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa', 'hex');
    const a = { user: 'User', domain: 'Domain', lm, nt: Buffer.alloc(0) };
    // 4.2.4.1.1 NTOWFv2's input: the NT hash of "Password".
    expect(ntHash('Password').toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
    expect(verifyAuthenticate(a, SERVER_CHALLENGE, ntHash('Password'))).toBe(true);
    expect(verifyAuthenticate(a, SERVER_CHALLENGE, ntHash('password'))).toBe(false);
    expect(verifyAuthenticate({ ...a, user: 'Other' }, SERVER_CHALLENGE, ntHash('Password'))).toBe(false);
    expect(verifyAuthenticate(a, Buffer.alloc(8, 1), ntHash('Password'))).toBe(false);
  });

  it('lays the CHALLENGE_MESSAGE out as Windows does: header, VERSION, TargetName at 56, then TargetInfo ending in MsvAvEOL', () => {
    const { message, serverChallenge } = challengeMessage({ domain: 'corp', dnsDomain: 'corp.example.com', computer: 'sql1' });
    expect(message.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(message.readUInt32LE(8)).toBe(2);
    expect(message.readUInt32LE(16)).toBe(56);
    expect(message.subarray(56, 56 + message.readUInt16LE(12)).toString('utf16le')).toBe('CORP');
    expect(message.subarray(24, 32)).toEqual(serverChallenge);
    const infoAt = message.readUInt32LE(44);
    expect(infoAt).toBe(56 + message.readUInt16LE(12));
    const info = message.subarray(infoAt, infoAt + message.readUInt16LE(40));
    expect(info.subarray(-4)).toEqual(Buffer.alloc(4));
  });
});
