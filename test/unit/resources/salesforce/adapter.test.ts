import { describe, expect, it } from 'vitest';
import { ThrottledError, AuthenticationError } from '../../../../layers/engine/errors.js';
import { assertOk, type ApiAnswer } from '../../../../layers/resources/cloud/https.js';
import { soqlLiteral } from '../../../../layers/resources/salesforce/adapter.js';
import { parseUserQuery } from '../../../simulators/https/salesforce.js';

const answer = (status: number, body: unknown): ApiAnswer => ({ status, headers: { get: () => null }, text: JSON.stringify(body) });

describe('salesforce adapter pieces', () => {
  it('a SOQL literal escaped by the adapter reads back, by SOQL\'s escapes, as the very user name', () => {
    for (const name of ["o'brien@acme.test", "x' OR Username != '", 'back\\slash', 'line\nbreak\ttab\r\f\b', '"dq"', "''--"]) {
      expect(parseUserQuery(`SELECT Id FROM User WHERE Username = '${soqlLiteral(name)}'`), name).toEqual({ username: name });
    }
  });

  it('the HTTPS core takes a provider\'s own throttling signal (Salesforce: 403 REQUEST_LIMIT_EXCEEDED) before reading a 403 as authentication', () => {
    const limited = answer(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    const throttled = (a: ApiAnswer) => a.status === 403 && a.text.includes('REQUEST_LIMIT_EXCEEDED');
    expect(() => assertOk(limited, 'call', 'change', { throttled })).toThrow(ThrottledError);
    expect(() => assertOk(answer(403, [{ message: 'no', errorCode: 'INSUFFICIENT_ACCESS' }]), 'call', 'change', { throttled })).toThrow(AuthenticationError);
    expect(() => assertOk(limited, 'call', 'change')).toThrow(AuthenticationError);
  });
});
