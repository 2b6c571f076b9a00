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

  it('take only a secret id for the credentials, never the keys themselves', () => {
    expect(refusedField({ ...iam, credentialsSecretId: undefined })).toBe('credentialsSecretId');
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
