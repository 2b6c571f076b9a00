import { describe, expect, it } from 'vitest';
import { MYSQL } from '../../../../layers/resources/sql-dialects.js';
import { isRefusal, isRefusalReason, isStrictPasswordValidation } from '../../../../layers/resources/mysql/refusals.js';

/** An error as mysql2 builds one from the server's ERR packet. */
const serverError = (errno: number, message = 'refused') => Object.assign(new Error(message), { errno, sqlState: 'HY000', code: MYSQL.refusals[errno] ?? 'ER_OTHER' });

describe('MySQL refusals: which server answers prove a password statement changed nothing', () => {
  it.each(Object.keys(MYSQL.refusals).map(Number))('error %i is a refusal', (errno) => {
    expect(isRefusal(serverError(errno))).toBe(true);
  });

  it('an error the list does not name is not a refusal (password no match, lock wait timeout, query interrupted, disk full, unknown error)', () => {
    for (const errno of [1133, 1205, 1317, 1021, 1105, 1213, 2013]) expect(isRefusal(serverError(errno))).toBe(false);
  });

  it("the driver's own errors are not refusals, even when they carry an error number", () => {
    expect(isRefusal(Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))).toBe(false);
    expect(isRefusal(Object.assign(new Error('access denied'), { errno: 1045 }))).toBe(false);
    expect(isRefusal(new Error('anything'))).toBe(false);
    expect(isRefusal(undefined)).toBe(false);
  });

  it("behind ALTER USER's 1396, 1133 (no account in memory) is a refusal too; an unlisted reason is not", () => {
    expect(isRefusalReason(1133)).toBe(true);
    expect(isRefusalReason(1819)).toBe(true);
    expect(isRefusalReason(1030)).toBe(false);
  });

  it("recognises MariaDB's strict_password_validation refusal of a hash, and only that use of 1290", () => {
    const strict = serverError(1290, 'The MariaDB server is running with the --strict-password-validation option so it cannot execute this statement');
    const readOnly = serverError(1290, 'The MariaDB server is running with the --read-only option so it cannot execute this statement');
    expect(isStrictPasswordValidation(strict)).toBe(true);
    expect(isStrictPasswordValidation(readOnly)).toBe(false);
  });
});
