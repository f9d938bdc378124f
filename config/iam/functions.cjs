// What each function of serverless.yml may touch: the one place its permissions are declared.
// Each function gets its own role, `<Name>Role` (serverless.yml names it in `role:`): its own log
// group plus the shared managed policies of the words in its row (config/iam/roles.cjs says what
// each word grants). A word left out is a permission not granted.
//
//   grantsTable       read | readWrite (conditional puts and updates) | readWrite+slots (the
//                     workflows' slot leases and holder removal too)
//   grantsTableStream read: consume the table's stream
//   secrets           cursorKey (Secrets Manager) | slack (the SSM signing secret and bot token)
//   startWorkflows    grant | revoke
//   listRunningWorkflows both: list the grant and revoke workflows' executions
//   slotWaiters       wake: hand a given-back slot to a waiting workflow and wake it (SendTaskSuccess)
//   schedules         write (create/move a grant's schedules, pass the scheduler role) | delete
//   events            put: PutEvents on the bus of the deploy parameter eventBusName
//   sessionRevocation scp: session cut entries and leases, the SCPs tagged as this stack's (retries and lifts too)
//   identityCenter    directory (user/group/permission set/account reads for policy evaluation) |
//                     assignments (list and delete assignments: checks and clean-up) |
//                     groupMembers (list a group's members). Made with the function's own role
//                     unless idcRoleArn is set; then the role gets sts:AssumeRole on that role instead.
//   portalBucket      publish: put and delete the web portal's objects, list its bucket (to empty it)
'use strict';

const { functionIamResources } = require('./roles.cjs');

const FUNCTIONS = {
  // HTTP API
  createGrant: { grantsTable: 'readWrite', startWorkflows: ['grant'], schedules: 'write', identityCenter: ['directory'] }, // schedules: a future start's activation
  getGrant: { grantsTable: 'read', identityCenter: ['directory'] },
  listGrants: { grantsTable: 'read', secrets: ['cursorKey'], identityCenter: ['directory'] },
  approveGrant: { grantsTable: 'readWrite', startWorkflows: ['grant'], schedules: 'write', identityCenter: ['directory'] }, // schedules: as createGrant
  denyGrant: { grantsTable: 'readWrite', identityCenter: ['directory'] },
  revokeGrant: { grantsTable: 'readWrite', startWorkflows: ['revoke'], identityCenter: ['directory'] },
  extendGrant: { grantsTable: 'readWrite', startWorkflows: ['revoke'], schedules: 'write', identityCenter: ['directory'] },
  cancelGrant: { grantsTable: 'readWrite', schedules: 'delete', identityCenter: ['directory'] }, // a cancelled future start drops its activation schedule
  getEligibility: { grantsTable: 'read', identityCenter: ['directory'] },
  getAudit: { grantsTable: 'read', secrets: ['cursorKey'], identityCenter: ['directory'] },
  getAccess: { grantsTable: 'read', identityCenter: ['directory'] }, // the access inventory and holders; names from the directory
  getOpenApi: {}, // public, holds no data: its logs only
  // Slack (grantsTable: grants, and the replay marker of each Slack request)
  slackCommands: { grantsTable: 'readWrite', startWorkflows: ['grant', 'revoke'], schedules: 'write', secrets: ['slack'], identityCenter: ['directory'] },
  slackInteractions: { grantsTable: 'readWrite', startWorkflows: ['grant', 'revoke'], schedules: 'write', secrets: ['slack'], identityCenter: ['directory'] },
  // grantsTable: message locations (SLACKMSG items) and grant reads; schedules: each grant's expiry warning
  slackNotify: { grantsTable: 'readWrite', grantsTableStream: 'read', schedules: 'write', secrets: ['slack'], identityCenter: ['directory'] }, // directory: the session terms in the messages
  // grantsTable: one audit item per history entry (idempotent puts)
  publishGrantEvents: { grantsTable: 'readWrite', grantsTableStream: 'read', events: 'put' },
  // Workflow tasks
  // schedules, startWorkflows: the revocation is scheduled (a short grant's revoke started) before any
  // access exists; slotWaiters: a slot handed to a grant that no longer needs it goes on to the next waiter.
  prepareActivation: { grantsTable: 'readWrite+slots', slotWaiters: 'wake', startWorkflows: ['revoke'], schedules: 'write', identityCenter: ['assignments'] },
  // Short grants start the revoke workflow at once; the others get their revocation schedule.
  completeActivation: { grantsTable: 'readWrite+slots', slotWaiters: 'wake', startWorkflows: ['revoke'], schedules: 'write', identityCenter: ['assignments'] },
  // A revoked grant's activation/revocation schedules can do nothing useful any more; a slot taken
  // for a delete that is not needed goes on to the next waiter.
  beginRevocation: { grantsTable: 'readWrite+slots', slotWaiters: 'wake', schedules: 'delete', identityCenter: ['assignments'] },
  // Session revocation: cut entries, leases and the stack's SCPs; SessionDuration and the management account from the directory reads.
  cutSessions: { grantsTable: 'readWrite', sessionRevocation: 'scp', identityCenter: ['directory'] },
  // Backstops: the sweeper queries by status, writes status, lists the running workflows and starts
  // workflows (no Identity Center calls); the reconciler reads the policy's scope, deletes drifted
  // assignments and writes holders.
  // It also mends the slots: takes back those of dead workflows and wakes waiters whose wake-up was lost.
  sweepGrants: { grantsTable: 'readWrite+slots', slotWaiters: 'wake', startWorkflows: ['grant', 'revoke'], listRunningWorkflows: 'both', sessionRevocation: 'scp', identityCenter: ['directory'] },
  reconcileAccess: { grantsTable: 'readWrite+slots', slotWaiters: 'wake', identityCenter: ['directory', 'assignments', 'groupMembers'] },
  // Web portal: the CloudFormation custom resource that writes the build and its settings into the portal's bucket.
  deployPortal: { portalBucket: 'publish' },
};

module.exports = {
  functions: FUNCTIONS,
  /** The shared managed policies and the functions' roles, for serverless.yml's `resources:`. */
  resources: () => ({ Resources: functionIamResources(FUNCTIONS) }),
};
