import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';

describe('loadConfig', () => {
  it('applies defaults and treats empty optional values as absent', () => {
    const c = loadConfig({ GRANTS_TABLE: 't', IDC_INSTANCE_ARN: '', DELEGATED_ADMIN: 'false' });
    expect(c).toMatchObject({ GRANTS_TABLE: 't', POLICY_PATH: 'config/policy.yaml', IDENTITY_CLAIM: 'email', DELEGATED_ADMIN: false, CLOSED_GRANT_RETENTION_DAYS: 400 });
    expect(c.IDC_INSTANCE_ARN).toBeUndefined();
  });
  it('names every wrong variable at once', () => {
    try {
      loadConfig({ IDC_INSTANCE_ARN: 'nope', IDC_ROLE_ARN: 'arn:aws:iam::1:user/x', CLOSED_GRANT_RETENTION_DAYS: '0' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      for (const name of ['GRANTS_TABLE', 'IDC_INSTANCE_ARN', 'IDC_ROLE_ARN', 'CLOSED_GRANT_RETENTION_DAYS']) expect(msg).toContain(name);
    }
  });
});
