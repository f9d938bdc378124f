/** What the plans of both workflows' tasks say about the access: the instance, the grant, who gets what. */
import type { Grant } from '../domain/grant.ts';

export interface InstanceIds {
  instanceArn: string;
  identityStoreId: string;
}

export interface AccessPlan extends InstanceIds {
  grantId: string;
  /** Why the workflow stops (stop only). */
  reason?: string;
  principalId: string;
  accountId: string;
  permissionSetArn: string;
}

/** The access fields of `grant`: empty strings where its target has none, or there is no grant (the state machines read every field). */
export function accessPlan(grantId: string, ids: InstanceIds, grant?: Grant): AccessPlan {
  const t = grant?.target;
  return {
    grantId,
    ...ids,
    principalId: grant?.principal.userId ?? '',
    accountId: t?.type === 'account' ? t.accountId : '',
    permissionSetArn: t?.type === 'account' ? t.permissionSetArn : '',
  };
}
