import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { refusedField, takesUsername } from '../helpers.js';

const iam = { id: 'aws-prod', type: 'aws-iam', credentialsSecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rpr/iam-admin-AbCdEf' };

describe('aws-iam resources', () => {
  it('take a region and refer to no account (the credentials are a secret)', () => {
    const r = parseResource({ ...iam, region: 'eu-west-1' });
    expect(r).toMatchObject({ region: 'eu-west-1', host: 'iam.amazonaws.com' });
    expect(definitionOf('aws-iam').references(r)).toEqual([]);
  });

  it('take the admin as a role to assume or an access key pair kept as a secret: exactly one, naming the field', () => {
    const role = { id: 'aws-prod', type: 'aws-iam', roleArn: 'arn:aws:iam::123456789012:role/rpr/password-admin' };
    expect(parseResource({ ...role, externalId: 'rpr-ext-1' })).toMatchObject({ roleArn: role.roleArn, externalId: 'rpr-ext-1', passwordResetRequired: false, manages: 'console-password' });
    expect(definitionOf('aws-iam').secrets!(parseResource(role) as never)).toEqual([]);
    expect(definitionOf('aws-iam').secrets!(parseResource(iam) as never)).toEqual([{ name: 'credentials', field: 'credentialsSecretId', secretId: iam.credentialsSecretId }]);
    expect(refusedField({ ...iam, credentialsSecretId: undefined })).toBe('roleArn');
    expect(refusedField({ ...role, credentialsSecretId: iam.credentialsSecretId })).toBe('credentialsSecretId');
    expect(refusedField({ ...iam, externalId: 'rpr-ext-1' })).toBe('externalId');
    expect(refusedField({ ...iam, stsEndpoint: 'https://sts.example.com' })).toBe('stsEndpoint');
    expect(refusedField({ ...role, roleArn: 'arn:aws:iam::123456789012:user/alice' })).toBe('roleArn');
    expect(refusedField({ ...role, externalId: 'has space' })).toBe('externalId');
    expect(refusedField({ ...iam, manages: 'access-keys' })).toBe('manages');
  });

  it('manage console passwords (the default) or access keys; the options of one are refused with the other, naming the field', () => {
    expect(parseResource({ ...iam, manages: 'access-key' })).toMatchObject({ manages: 'access-key' });
    expect(parseResource({ ...iam, manages: 'access-key', oldKeyGraceDays: 0, stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' })).toMatchObject({ oldKeyGraceDays: 0, stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' });
    expect(refusedField({ ...iam, oldKeyGraceDays: 7 })).toBe('oldKeyGraceDays');
    expect(refusedField({ ...iam, manages: 'access-key', passwordResetRequired: true })).toBe('passwordResetRequired');
    for (const days of [-1, 1.5, 366, '7']) expect(refusedField({ ...iam, manages: 'access-key', oldKeyGraceDays: days })).toBe('oldKeyGraceDays');
  });

  it('share one target per AWS account (the role\'s) or per key pair secret: two groups of a run on it at once', () => {
    const shared = definitionOf('aws-iam').sharedTarget!;
    const role = (arn: string) => shared.key(parseResource({ id: 'a', type: 'aws-iam', roleArn: arn }) as never);
    expect(role('arn:aws:iam::123456789012:role/rpr/a')).toBe(role('arn:aws:iam::123456789012:role/rpr/b'));
    expect(role('arn:aws:iam::123456789012:role/rpr/a')).not.toBe(role('arn:aws:iam::210987654321:role/rpr/a'));
    expect(shared.key(parseResource(iam) as never)).toContain(`secret:${iam.credentialsSecretId}`);
    expect(shared.groupsAtOnce).toBe(2);
  });

  it('take an endpoint as the SDK does: https, or http to loopback only (an emulator), with no path or credentials', () => {
    expect(parseResource({ ...iam, endpoint: 'https://iam.us-gov.amazonaws.com' })).toMatchObject({ endpoint: 'https://iam.us-gov.amazonaws.com' });
    expect(parseResource({ ...iam, endpoint: 'http://127.0.0.1:5055' })).toMatchObject({ endpoint: 'http://127.0.0.1:5055' });
    for (const endpoint of ['http://iam.example.com', 'https://user:pw@iam.example.com', 'https://iam.example.com/path', 'https://iam.example.com/?x=1', 'ftp://127.0.0.1', 'iam.amazonaws.com']) {
      expect(refusedField({ ...iam, endpoint }), endpoint).toBe('endpoint');
    }
  });

  it('take only a secret id for the credentials, never the keys themselves', () => {
    expect(refusedField({ ...iam, accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' })).toBe('accessKeyId');
    expect(refusedField({ ...iam, credentialsSecretId: '{"accessKeyId":"AKIA"}' })).toBe('credentialsSecretId');
  });

  it('refuse a malformed region', () => {
    expect(refusedField({ ...iam, region: 'Europe' })).toBe('region');
  });

  it('generate printable ASCII with the symbols IAM counts', () => {
    expect(policyOf({ type: 'aws-iam' })).toMatchObject({ length: 32, minLength: 6, maxLength: 128, allowUnicode: false, symbols: "!@#$%^&*()_+-=[]{}|'" });
  });

  it('check IAM user names', () => {
    expect(takesUsername('aws-iam', 'alice+ops@example.com')).toBe(true);
    expect(takesUsername('aws-iam', 'x'.repeat(65))).toBe(false);
    expect(takesUsername('aws-iam', 'a/b')).toBe(false);
  });
});
