/** Grant fixtures for store-level tests. */
import { ulid } from 'ulid';
import type { Grant } from '../../lib/domain/grant.ts';

export function makeGrant(overrides: Partial<Grant> = {}): Grant {
  const at = overrides.requestedAt ?? new Date().toISOString();
  return {
    id: ulid(),
    principal: { userId: 'user-1', userName: 'carol', email: 'carol@example.com' },
    target: { type: 'account', accountId: '444444444444', permissionSet: 'ReadOnlyAccess', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1' },
    justification: 'test',
    ruleId: 'dev-readonly',
    requestedAt: at,
    duration: 'PT1H',
    status: 'PENDING_APPROVAL',
    quorum: 1,
    approvals: [],
    history: [{ at, actor: { id: 'user-1', name: 'carol' }, action: 'requested', from: null, to: 'PENDING_APPROVAL' }],
    version: 1,
    pendingExpiresAt: new Date(Date.parse(at) + 3600_000).toISOString(),
    ...overrides,
  };
}

export const testActor = { id: 'user-9', name: 'tester' };
