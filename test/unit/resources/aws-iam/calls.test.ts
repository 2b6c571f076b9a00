import { describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError, ThrottledError } from '../../../../layers/engine/errors.js';
import { Secret } from '../../../../layers/engine/secret.js';
import { policyShortfall, ruleBroken, rulesOf } from '../../../../layers/resources/aws-iam/account-policy.js';
import { keyPairOf } from '../../../../layers/resources/aws-iam/adapter.js';
import { classify } from '../../../../layers/resources/aws-iam/calls.js';
import { policyOf } from '../../../../layers/resources/registry.js';

/** An error as the SDK throws it for a service answer: its name is the code, with the status in $metadata. */
const answered = (name: string, status: number) => Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
const network = (code: string, name = 'Error') => Object.assign(new Error(code), { name, code });

describe('aws-iam call failures, by what they may have done', () => {
  it.each([
    ['ExpiredToken', 400, AuthenticationError],
    ['ExpiredTokenException', 400, AuthenticationError],
    ['InvalidClientTokenId', 403, AuthenticationError],
    ['SignatureDoesNotMatch', 403, AuthenticationError],
    ['AccessDenied', 403, AuthenticationError],
    ['Throttling', 400, ThrottledError],
    ['ThrottlingException', 400, ThrottledError],
    ['Unknown', 429, ThrottledError],
    ['ServiceUnavailable', 503, ThrottledError],
    ['NoSuchEntityException', 404, TargetUnchangedError],
    ['PasswordPolicyViolationException', 400, TargetUnchangedError],
    ['EntityTemporarilyUnmodifiableException', 409, TargetUnchangedError],
    ['ServiceFailureException', 500, OutcomeUnknownError],
    ['SomethingNew', 400, OutcomeUnknownError],
  ])('the change answered %s (%i) is %O', (name, status, expected) => {
    expect(classify(answered(name, status), 'changing', true)).toBeInstanceOf(expected);
  });

  it('a read answered with any 4xx changed nothing; a 500 on a read changed nothing either', () => {
    expect(classify(answered('SomethingNew', 400), 'reading', false)).toBeInstanceOf(TargetUnchangedError);
    expect(classify(answered('ServiceFailureException', 500), 'reading', false)).toBeInstanceOf(TargetUnchangedError);
  });

  it('connection failures: never connected is unchanged; a hang-up or a deadline after the change was sent is outcome unknown; before it, unchanged or timeout', () => {
    expect(classify(network('ECONNREFUSED'), 'changing', true)).toBeInstanceOf(TargetUnchangedError);
    expect(classify(network('ECONNRESET', 'TimeoutError'), 'changing', true)).toBeInstanceOf(OutcomeUnknownError);
    expect(classify(network('ETIMEDOUT', 'TimeoutError'), 'changing', true)).toBeInstanceOf(OutcomeUnknownError);
    expect(classify(network('ECONNRESET', 'TimeoutError'), 'reading', false)).toBeInstanceOf(TargetUnchangedError);
    expect(classify(network('ETIMEDOUT', 'TimeoutError'), 'reading', false)).toBeInstanceOf(TargetTimeoutError);
    const connect = Object.assign(new Error('Socket timed out without establishing a connection within 1500 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(classify(connect, 'changing', true)).toBeInstanceOf(TargetTimeoutError);
  });
});

describe('the account password policy, checked before a password is sent', () => {
  it('IAM\'s default when none is set: 8 characters, three of the four classes', () => {
    const rules = rulesOf(undefined);
    expect(ruleBroken(rules, new Secret('Aa1!xyz'))).toBe('at least 8 characters');
    expect(ruleBroken(rules, new Secret('abcdefgh12'))).toContain('three of');
    expect(ruleBroken(rules, new Secret('abcdefgh1A'))).toBeUndefined();
  });

  it('a custom policy: its length and each class it requires, with IAM\'s own symbols', () => {
    const rules = rulesOf({ MinimumPasswordLength: 12, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true });
    expect(ruleBroken(rules, new Secret('Abcdefghij1!'))).toBeUndefined();
    expect(ruleBroken(rules, new Secret('Abcdefghij1~'))).toContain("IAM's symbols");
    expect(ruleBroken(rules, new Secret('abcdefghij1!'))).toBe('an upper-case letter');
    expect(policyShortfall(rules, policyOf({ type: 'aws-iam' }))).toBeUndefined();
    expect(policyShortfall(rules, policyOf({ type: 'aws-iam', policy: { length: 10 } }))).toContain('policy.length is 10');
  });
});

describe('the access key pair secret', () => {
  it('is JSON with an access key id and a secret key; what is wrong names credentialsSecretId and never quotes the value', () => {
    expect(keyPairOf(new Secret('{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"s3cr3t"}'))).toEqual({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's3cr3t' });
    for (const value of ['AKIAIOSFODNN7EXAMPLE:s3cr3t-value', '{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}', '{"accessKeyId":"bad id","secretAccessKey":"s3cr3t-value"}']) {
      try {
        keyPairOf(new Secret(value));
        throw new Error('expected a refusal');
      } catch (e) {
        expect((e as { field?: string }).field).toBe('credentialsSecretId');
        expect((e as Error).message).not.toContain('s3cr3t-value');
      }
    }
  });
});
