/**
 * Local sso-admin (X-Amz-Target `SWBExternalService`): the instance, its permission sets and
 * the account assignments, created and deleted by async operations that settle on the
 * shared state's clock (see local/idc/emulator.ts for the semantics modelled).
 */
import { randomUUID } from 'node:crypto';
import { AwsError, epochSeconds, requireString, type JsonService } from '../protocol/aws.ts';
import { assignmentKey, identityCenterPage as page, provisionedKey, validation, type IdcState, type OperationKind, type OperationView, type Operations } from './state.ts';

export const SSO_ADMIN_TARGET_PREFIX = 'SWBExternalService';

export function createSsoAdmin(state: IdcState): JsonService {
  const { fixture } = state;
  const instanceArn = fixture.instance.arn;
  const storeId = fixture.instance.identityStoreId;
  const mgmt = fixture.organization.managementAccountId;
  const orgId = fixture.organization.id;

  const checkInstance = (input: Record<string, unknown>) => {
    const arn = requireString(input, 'InstanceArn');
    if (arn !== instanceArn) throw new AwsError('ResourceNotFoundException', `Instance ${arn} does not exist.`);
  };

  const requirePermissionSet = (input: Record<string, unknown>) => {
    const arn = requireString(input, 'PermissionSetArn');
    const ps = state.permissionSetsByArn.get(arn);
    if (!ps) throw new AwsError('ResourceNotFoundException', `Could not find PermissionSet with id ${arn.split('/').pop() ?? arn}`);
    return ps;
  };

  const statusView = (op: OperationView) => ({
    Status: op.status,
    RequestId: op.requestId,
    ...(op.failureReason ? { FailureReason: op.failureReason } : {}),
    TargetId: op.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: op.permissionSetArn,
    PrincipalType: op.principalType,
    PrincipalId: op.principalId,
    CreatedDate: epochSeconds(op.createdAt),
  });

  const startAssignmentOperation = (kind: OperationKind, operation: string, input: Record<string, unknown>) => {
    checkInstance(input);
    const accountId = requireString(input, 'TargetId');
    if (!/^\d{12}$/.test(accountId)) throw validation(`TargetId ${accountId} is not a valid account id`);
    const targetType = requireString(input, 'TargetType');
    if (targetType !== 'AWS_ACCOUNT') throw validation(`TargetType must be AWS_ACCOUNT`);
    const principalType = requireString(input, 'PrincipalType');
    if (principalType !== 'USER' && principalType !== 'GROUP') throw validation(`PrincipalType must be USER or GROUP`);
    const principalId = requireString(input, 'PrincipalId');
    const ps = requirePermissionSet(input);
    if (fixture.instance.delegatedAdministrator && accountId === mgmt) {
      throw new AwsError(
        'AccessDeniedException',
        `User is not authorized to manage assignments on the management account ${mgmt} from a delegated administrator account.`,
      );
    }
    const target = { accountId, permissionSetArn: ps.arn, principalType, principalId } as const;
    const key = assignmentKey(target);
    const pending = [...state.operations.values()].find((o) => o.status === 'IN_PROGRESS' && assignmentKey(o) === key);
    if (pending) {
      throw new AwsError('ConflictException', `An account assignment operation (${pending.requestId}) is in progress for this principal, permission set and account. Retry later.`);
    }
    if (kind === 'DELETE' && !state.assignments.has(key)) {
      throw new AwsError('ResourceNotFoundException', 'The specified account assignment does not exist.');
    }
    state.checkOutstandingQuota();

    let outcome: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
    let outcomeReason: string | undefined;
    const principalKnown = principalType === 'USER' ? state.usersById.has(principalId) : state.groupsById.has(principalId);
    if (!principalKnown && kind === 'CREATE') {
      outcome = 'FAILED';
      outcomeReason = `Received a 404 status error: the ${principalType} assignee ${principalId} was not found in directory ${storeId}`;
    } else if (!state.accountsById.has(accountId) && kind === 'CREATE') {
      outcome = 'FAILED';
      outcomeReason = `Received a 404 status error: account ${accountId} is not a member of organization ${orgId}`;
    } else {
      const injected = state.injectedFailure(operation, input);
      if (injected !== undefined) {
        outcome = 'FAILED';
        outcomeReason = injected;
      }
    }
    const { minMs, maxMs } = state.knobs.provisioningDelayMs;
    const now = state.clock.now();
    const op: OperationView = {
      requestId: randomUUID(),
      kind,
      status: 'IN_PROGRESS',
      ...target,
      createdAt: now,
      completesAt: now + minMs + Math.floor(state.random() * (maxMs - minMs + 1)),
      outcome,
      ...(outcomeReason ? { outcomeReason } : {}),
    };
    state.operations.set(op.requestId, op);
    state.changed();
    return statusView(op);
  };

  const describeOperation = (kind: OperationKind, input: Record<string, unknown>, idField: string) => {
    checkInstance(input);
    const id = requireString(input, idField);
    const op = state.operations.get(id);
    if (!op || op.kind !== kind) throw new AwsError('ResourceNotFoundException', `Request ${id} does not exist.`);
    return statusView(op);
  };

  const operations: Operations = {
    ListInstances: (input) => {
      const instance = {
        InstanceArn: instanceArn,
        IdentityStoreId: storeId,
        OwnerAccountId: fixture.instance.ownerAccountId,
        ...(fixture.instance.name ? { Name: fixture.instance.name } : {}),
        Status: 'ACTIVE',
        CreatedDate: 1_600_000_000,
      };
      return page('Instances', [instance], input);
    },
    ListPermissionSets: (input) => {
      checkInstance(input);
      return page('PermissionSets', fixture.permissionSets.map((p) => p.arn), input);
    },
    DescribePermissionSet: (input) => {
      checkInstance(input);
      const ps = requirePermissionSet(input);
      return {
        PermissionSet: {
          Name: ps.name,
          PermissionSetArn: ps.arn,
          ...(ps.description ? { Description: ps.description } : {}),
          CreatedDate: 1_600_000_000,
          SessionDuration: ps.sessionDuration,
        },
      };
    },
    CreateAccountAssignment: (input) => ({ AccountAssignmentCreationStatus: startAssignmentOperation('CREATE', 'CreateAccountAssignment', input) }),
    DeleteAccountAssignment: (input) => ({ AccountAssignmentDeletionStatus: startAssignmentOperation('DELETE', 'DeleteAccountAssignment', input) }),
    DescribeAccountAssignmentCreationStatus: (input) => ({
      AccountAssignmentCreationStatus: describeOperation('CREATE', input, 'AccountAssignmentCreationRequestId'),
    }),
    DescribeAccountAssignmentDeletionStatus: (input) => ({
      AccountAssignmentDeletionStatus: describeOperation('DELETE', input, 'AccountAssignmentDeletionRequestId'),
    }),
    ListAccountAssignments: (input) => {
      checkInstance(input);
      const accountId = requireString(input, 'AccountId');
      const ps = requirePermissionSet(input);
      const rows = [...state.assignments.values()]
        .filter((a) => a.accountId === accountId && a.permissionSetArn === ps.arn)
        .map((a) => ({ AccountId: a.accountId, PermissionSetArn: a.permissionSetArn, PrincipalType: a.principalType, PrincipalId: a.principalId }));
      return page('AccountAssignments', rows, input);
    },
    ListPermissionSetsProvisionedToAccount: (input) => {
      checkInstance(input);
      const accountId = requireString(input, 'AccountId');
      if (!/^\d{12}$/.test(accountId)) throw validation(`AccountId ${accountId} is not a valid account id`);
      const status = input.ProvisioningStatus;
      if (status !== undefined && status !== 'LATEST_PERMISSION_SET_PROVISIONED' && status !== 'LATEST_PERMISSION_SET_NOT_PROVISIONED') {
        throw validation('ProvisioningStatus must be LATEST_PERMISSION_SET_PROVISIONED or LATEST_PERMISSION_SET_NOT_PROVISIONED');
      }
      // Every provisioned set here is at its latest version (the emulator does not edit permission sets).
      const arns = status === 'LATEST_PERMISSION_SET_NOT_PROVISIONED' ? [] : fixture.permissionSets.map((p) => p.arn).filter((arn) => state.provisioned.has(provisionedKey(accountId, arn)));
      return page('PermissionSets', arns, input);
    },
    ListAccountAssignmentsForPrincipal: (input) => {
      checkInstance(input);
      const principalId = requireString(input, 'PrincipalId');
      const principalType = requireString(input, 'PrincipalType');
      const filter = (input.Filter ?? {}) as { AccountId?: unknown };
      const accountFilter = typeof filter.AccountId === 'string' ? filter.AccountId : undefined;
      const rows = [...state.assignments.values()]
        .filter((a) => a.principalId === principalId && a.principalType === principalType && (!accountFilter || a.accountId === accountFilter))
        .map((a) => ({ AccountId: a.accountId, PermissionSetArn: a.permissionSetArn, PrincipalId: a.principalId, PrincipalType: a.principalType }));
      return page('AccountAssignments', rows, input);
    },
  };

  return state.service(SSO_ADMIN_TARGET_PREFIX, operations, true);
}
