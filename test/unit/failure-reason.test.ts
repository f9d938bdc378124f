/**
 * What a requester reads when an activation fails: one sentence that says what failed,
 * why and what to do, whatever the workflow handed CompleteActivation (a Lambda task's
 * error JSON with its stack, an SDK integration's message, a timeout, Identity Center's
 * FailureReason). The raw error never reaches the sentence; the history detail keeps at
 * most the error's name and message.
 */
import { describe, expect, it } from 'vitest';
import { describeActivationFailure, type FailureInput } from '../../lib/workflow/failure-reason.ts';
import { IAM_ROLE_QUOTA_REASON, NOT_SUPPORTED_POLICY_REASON } from '../../local/idc/knobs.ts';

/** A Lambda error as Step Functions puts it in `Cause`, with the stack a minified bundle gives. */
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({
    errorType,
    errorMessage,
    trace: [
      `${errorType}: ${errorMessage}`,
      '    at Ye (file:///var/task/prepareActivation.mjs:3:10412)',
      '    at async Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1206:29)',
      '    at /var/task/node_modules/x/index.js:1:1',
    ],
  });
const sdkCause = (service: string, message: string) => `${message} (Service: ${service}, Status Code: 400, Request ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)`;
const notAuthorized = (action: string, tail: string) =>
  `User: arn:aws:sts::123456789012:assumed-role/identity-center-jit-prod-idc-tasks/states-session is not authorized to perform: ${action} on resource: arn:aws:identitystore::123456789012:identitystore/d-1234567890 ${tail}`;

const ROLE_LACKS = (action: string) => `the deployment's role lacks ${action}; ask the platform team to fix the deployment's IAM role, then request again`;
const DELEGATED_ADMIN =
  'this system is not allowed to grant access on that account (assignments on the management account are refused from a delegated administrator); ask an administrator for another way';
const ACCESS_DENIED = "AWS denied this deployment access while it was setting up yours; ask the platform team to check the deployment's permissions, then request again";
const STEP_TIMEOUT =
  'a step of setting up the access ran out of time (AWS answered too slowly), so nothing was granted; request again in a few minutes, and tell the platform team if it keeps happening';
const AWS_INTERNAL = 'AWS had an internal error while setting up the access, so nothing was granted; request again in a few minutes, and tell the platform team if it keeps happening';
const THROTTLED = 'AWS kept throttling this system while it set up the access, so nothing was granted; request again in a few minutes';
const CONFLICT = 'other changes to the same access kept getting in the way, so nothing was granted; request again in a few minutes';
const INTERNAL =
  'the access could not be set up because of an unexpected error in this system; request again, and if it fails again ask the platform team to look up this grant in the logs';

const cases: [string, FailureInput, string | RegExp][] = [
  // Lambda task errors (errorType / errorMessage JSON with a stack)
  [
    'a missing permission inside a Lambda task',
    {
      kind: 'error',
      error: 'AccessDeniedException',
      cause: lambdaCause('AccessDeniedException', notAuthorized('sso:ListAccountAssignments', 'because no identity-based policy allows the sso:ListAccountAssignments action')),
    },
    ROLE_LACKS('sso:ListAccountAssignments'),
  ],
  ['HolderBusy retried out', { kind: 'error', error: 'HolderBusy', cause: lambdaCause('HolderBusy', 'the access for ACCOUNT#u#1#ps is being removed after another grant ended; waiting for that to finish') }, /still being removed after an earlier grant ended.*request again/],
  ['ConflictError retried out', { kind: 'error', error: 'ConflictError', cause: lambdaCause('ConflictError', 'grant 01J was changed by another request; reload it and try again') }, CONFLICT],
  ['DynamoDB throughput after retries', { kind: 'error', error: 'ProvisionedThroughputExceededException', cause: lambdaCause('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded') }, THROTTLED],
  ['an unexpected bug', { kind: 'error', error: 'TypeError', cause: lambdaCause('TypeError', "Cannot read properties of undefined (reading 'principal')") }, INTERNAL],
  [
    'a policy file that does not load (paths in the message)',
    { kind: 'error', error: 'PolicyError', cause: lambdaCause('PolicyError', 'policy /var/task/config/policy.yaml is invalid (1 problem):\n  /var/task/config/policy.yaml:3:1 rules: required') },
    /configuration is wrong.*ask the platform team/,
  ],
  ['Lambda itself failing after the retries', { kind: 'error', error: 'Lambda.ServiceException', cause: 'Lambda returned an error (Service: Lambda, Status Code: 500, Request ID: 1)' }, AWS_INTERNAL],
  ['the Lambda error JSON without a name', { kind: 'error', cause: '{"errorMessage":"boom"}' }, INTERNAL],
  // Timeouts and generic task failures
  ['a Lambda timeout (Sandbox.Timedout)', { kind: 'error', error: 'Sandbox.Timedout', cause: '{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 6c7e9d1a Error: Task timed out after 60.00 seconds"}' }, STEP_TIMEOUT],
  ['a task timeout (States.Timeout)', { kind: 'error', error: 'States.Timeout' }, STEP_TIMEOUT],
  ['a timeout reported as States.TaskFailed', { kind: 'error', error: 'States.TaskFailed', cause: 'Task timed out after 30.01 seconds' }, STEP_TIMEOUT],
  ['States.TaskFailed', { kind: 'error', error: 'States.TaskFailed', cause: 'connect ECONNREFUSED 10.0.0.1:443' }, AWS_INTERNAL],
  // SDK integration errors, with AWS's messages
  [
    'a missing permission of the SDK task role',
    {
      kind: 'error',
      error: 'Identitystore.AccessDeniedException',
      cause: sdkCause('Identitystore', notAuthorized('identitystore:CreateGroupMembership', 'because no identity-based policy allows the identitystore:CreateGroupMembership action')),
    },
    ROLE_LACKS('identitystore:CreateGroupMembership'),
  ],
  [
    'an explicit deny',
    { kind: 'error', error: 'SsoAdmin.AccessDeniedException', cause: sdkCause('SsoAdmin', notAuthorized('sso:CreateAccountAssignment', 'with an explicit deny in a service control policy')) },
    ROLE_LACKS('sso:CreateAccountAssignment'),
  ],
  [
    'the management account from a delegated administrator',
    {
      kind: 'error',
      error: 'SsoAdmin.AccessDeniedException',
      cause: sdkCause('SsoAdmin', 'User is not authorized to manage assignments on the management account 111111111111 from a delegated administrator account.'),
    },
    DELEGATED_ADMIN,
  ],
  ['any other AccessDenied', { kind: 'error', error: 'SsoAdmin.AccessDeniedException', cause: sdkCause('SsoAdmin', 'You do not have sufficient access to perform this action.') }, ACCESS_DENIED],
  ['an AccessDenied without a message', { kind: 'error', error: 'SsoAdmin.AccessDeniedException' }, ACCESS_DENIED],
  ['throttling after the retries', { kind: 'error', error: 'SsoAdmin.ThrottlingException', cause: sdkCause('SsoAdmin', 'Rate exceeded') }, THROTTLED],
  ['a conflict after the retries', { kind: 'error', error: 'SsoAdmin.ConflictException', cause: sdkCause('SsoAdmin', 'An account assignment operation is in progress. Retry later.') }, CONFLICT],
  ['a vanished group', { kind: 'error', error: 'Identitystore.ResourceNotFoundException', cause: sdkCause('Identitystore', 'GROUP not found.') }, /could not find the user, group, permission set or account/],
  ['an invalid request', { kind: 'error', error: 'Identitystore.ValidationException', cause: sdkCause('Identitystore', '1 validation error detected') }, /rejected the request as invalid/],
  ['a full group', { kind: 'error', error: 'Identitystore.ServiceQuotaExceededException', cause: sdkCause('Identitystore', 'quota exceeded') }, /quota was reached/],
  ['Identity Center failing internally', { kind: 'error', error: 'SsoAdmin.InternalServerException', cause: sdkCause('SsoAdmin', 'Internal failure') }, AWS_INTERNAL],
  ['no free slot for 20 minutes', { kind: 'error', error: 'SlotsBusy', cause: "Identity Center's 10 assignment operations in progress stayed in use by other requests for about 20 minutes" }, /stayed in use by other requests for about 20 minutes.*request again later/],
  // Identity Center's FailureReason of a FAILED operation, and its polling timeout
  ['the IAM role quota', { kind: 'failed', failureReason: IAM_ROLE_QUOTA_REASON }, 'the account has reached its IAM role quota; ask the account owner to remove unused roles (or raise the quota), then request again'],
  ['a permission set with a missing policy', { kind: 'failed', failureReason: NOT_SUPPORTED_POLICY_REASON }, /permission set refers to a policy that does not exist/],
  ['a SCIM-managed group', { kind: 'failed', failureReason: 'Group is synchronized from an external identity provider' }, /managed by your identity provider \(SCIM\)/],
  ['a FAILED operation on the management account', { kind: 'failed', failureReason: 'Assignments on the management account are not allowed from a delegated administrator account.' }, DELEGATED_ADMIN],
  [
    'a FAILED operation for a missing permission',
    { kind: 'failed', failureReason: notAuthorized('iam:PutRolePolicy', 'because no identity-based policy allows the iam:PutRolePolicy action') },
    ROLE_LACKS('iam:PutRolePolicy'),
  ],
  ['an unknown reason', { kind: 'failed', failureReason: 'Something new' }, 'Identity Center could not create the access and said "Something new"; request again, or give this message to an administrator'],
  ['no reason at all', { kind: 'failed' }, /gave no reason; request again/],
  ['creation never finished', { kind: 'timeout' }, /did not finish creating the access within 15 minutes, so nothing was granted; request again/],
];

describe('activation failure reasons', () => {
  it.each(cases)('%s', (_what, input, expected) => {
    const { reason, detail } = describeActivationFailure(input);
    if (typeof expected === 'string') expect(reason).toBe(expected);
    else expect(reason).toMatch(expected);
    // One sentence for a person: no JSON, no stack, no file paths, no second sentence.
    expect(reason).not.toMatch(/trace|errorType|errorMessage|[{}\n]|\/var\/|file:\/\/|\.mjs|\bat \w+ \(/);
    expect(reason).not.toMatch(/\.\s+[A-Z]/);
    expect(reason).toMatch(/(request again|another way|identity provider|check your account|ask an administrator)/);
    // The history detail: the error's name and message at most.
    if (detail !== undefined) {
      expect(detail.length).toBeLessThanOrEqual(300);
      expect(detail).not.toMatch(/trace|[{}\n]|\/var\/|file:\/\/|\.mjs|\bat \w+ \(/);
    }
  });

  it('keeps the error name and message, not the stack, in the history detail', () => {
    const { detail } = describeActivationFailure({ kind: 'error', error: 'HolderBusy', cause: lambdaCause('HolderBusy', 'the access for ACCOUNT#u is being removed') });
    expect(detail).toBe('HolderBusy: the access for ACCOUNT#u is being removed');
    expect(describeActivationFailure({ kind: 'error', error: 'PolicyError', cause: lambdaCause('PolicyError', 'policy /var/task/config/policy.yaml is invalid') }).detail).toBe(
      'PolicyError: policy <path> is invalid',
    );
    expect(describeActivationFailure({ kind: 'failed', failureReason: IAM_ROLE_QUOTA_REASON }).detail).toBe(`Identity Center: ${IAM_ROLE_QUOTA_REASON}`);
  });

  it('names the action a missing permission is about, whichever service refused', () => {
    for (const action of ['identitystore:GetGroupMembershipId', 'sso:DescribeAccountAssignmentCreationStatus', 'dynamodb:UpdateItem', 'iam:GetSAMLProvider']) {
      const cause = lambdaCause('AccessDeniedException', notAuthorized(action, `because no identity-based policy allows the ${action} action`));
      expect(describeActivationFailure({ kind: 'error', error: 'AccessDeniedException', cause }).reason).toBe(ROLE_LACKS(action));
    }
  });
});
