/**
 * The grants table's layout: key attributes, index names, key prefixes and the slot count.
 * The one place that spells them. CommonJS, so that serverless.yml reads it as it is (the table
 * resource's keys and indexes, the state machines' DefinitionSubstitutions) and the TypeScript
 * imports it (lib/table/keys.ts); layout.d.cts gives it its types.
 *
 *   grant        pk GRANT#<id>                                   sk GRANT
 *                byPrincipal   USER#<userId> / <id>                  a principal's grants, newest first (ULIDs sort by time)
 *                byStatus      STATUS#<status> / <deadline>#<id>     grants by status ordered by their deadline
 *                byPendingRule PENDING#<ruleId> / <requestedAt>#<id> only while PENDING_APPROVAL (sparse)
 *                all           GRANT / <id>                          every grant, for admins
 *   holder       pk HOLDER#<assignment key>                      sk HOLDER   (all: HOLDER / <key>)
 *   slot         pk SLOT#<n> (n < SLOT_COUNT)                    sk SLOT
 *   slot waiter  pk SLOT#WAITERS                                 sk <priority>#<place>#<owner>
 *                (priority 0: revocations, 1: activations; place: expiresAt or when activation began)
 *   idempotency  pk IDEMPOTENCY#<principal>#<key>                sk IDEMPOTENCY
 *   Slack        pk SLACKMSG#<grantId>, SLACKREPLAY#<signature>  sk -
 *   audit entry  pk AUDIT#<yyyy-mm of at>                        sk <at>#<grantId>#<position, 4 digits>
 *                (one per history entry; a time range is one Query per month, newest first)
 *                byPrincipal   AUDITUSER#<userName, lower case> / the same sk   a user's entries
 *                byStatus      AUDITACCOUNT#<accountId> / the same sk           an account's entries (account targets only)
 *   session cut  pk SESSIONS#<accountId>                         sk LEASE (the account's SCP writer lease)
 *                                                                sk CUT#<cutoff>#<userId>#<grantId> (a deny entry)
 *                byStatus      SESSIONLIFT / <liftAt>#<accountId>#<cutoff>#<userId>#<grantId>   entries by lift time
 *   pending cut  pk SESSIONS#PENDING                             sk <grantId>   cuts the sweeper retries
 *   access seen by the reconciler (the access inventory):
 *     assignment pk INVENTORY#ACCOUNT#<account>   sk <permission set ARN>#<USER|GROUP>#<principal id>
 *     membership pk INVENTORY#GROUP#<group id>    sk USER#<user id>
 *                byPrincipal   INVENTORY#PRINCIPAL#<principal id> / <pk>#<sk>   a user's (or group's) access
 *                byStatus      INVENTORY#PS#<permission set ARN> / <pk>#<sk>    one permission set everywhere (assignments)
 *                byPendingRule INVENTORY / <pk>#<sk>                            the whole inventory (freshness sweep, report)
 *   reconcile    pk RECONCILE#CURSOR                              sk RECONCILE  where the current pass stands
 *                pk RECONCILE#PASSES                              sk <finishedAt>#<passId>  finished passes (TTL)
 */
'use strict';

/** Identity Center allows 10 outstanding async assignment operations per instance: one slot each. */
const SLOT_COUNT = 10;
/**
 * Slots activations leave free for revocations: an expiry never waits behind a storm of
 * activations (with 10 slots, 8 creates at a time still outrun Identity Center's 20 TPS).
 */
const SLOTS_RESERVED_FOR_REVOCATIONS = 2;

/** Partition key prefixes, one per kind of item; the rest of the key follows the prefix. */
const KEY_PREFIX = {
  grant: 'GRANT#',
  /** byPrincipal partition: a user's grants. */
  user: 'USER#',
  /** byStatus partition: the grants in one status. */
  status: 'STATUS#',
  /** byPendingRule partition: pending requests admitted by one rule. */
  pending: 'PENDING#',
  holder: 'HOLDER#',
  slot: 'SLOT#',
  idempotency: 'IDEMPOTENCY#',
  slackMessage: 'SLACKMSG#',
  slackReplay: 'SLACKREPLAY#',
  /** Audit entries by month; the two key variants below share the grants' indexes (distinct partitions). */
  audit: 'AUDIT#',
  auditUser: 'AUDITUSER#',
  auditAccount: 'AUDITACCOUNT#',
  /** Session revocation: an account's cut entries and lease, and the pending cuts. */
  sessions: 'SESSIONS#',
  /** Access inventory items and their index partitions (INVENTORY#ACCOUNT#, #GROUP#, #PRINCIPAL#, #PS#). */
  inventory: 'INVENTORY#',
  reconcile: 'RECONCILE#',
};

/** Sort key of each kind of item (every kind has one item per partition). */
const SORT_KEY = {
  grant: 'GRANT',
  holder: 'HOLDER',
  slot: 'SLOT',
  idempotency: 'IDEMPOTENCY',
  slack: '-',
  sessionLease: 'LEASE',
  /** Prefix of a cut entry's sort key. */
  sessionCut: 'CUT#',
  reconcile: 'RECONCILE',
};

/** Session revocation's fixed partitions: the pending cuts (pk SESSIONS#PENDING) and the lift index partition. */
const SESSION_PARTITION = { pending: 'PENDING', lift: 'SESSIONLIFT' };

/** The reconciler's items: its cursor, the partition of finished passes, the whole inventory's index partition. */
const RECONCILE = { cursor: 'CURSOR', passes: 'PASSES', inventoryAll: 'INVENTORY' };

/** The partition of the slot waiters (next to the slots: pk SLOT#WAITERS), in the order they are served. */
const SLOT_WAITERS = 'WAITERS';
/** Waiters are served by priority, then place: deletions before creations. */
const SLOT_WAITER_PRIORITY = { revoke: '0', activate: '1' };

/** Partitions of the `all` index: every grant, every holder. */
const ALL_PARTITION = { grant: 'GRANT', holder: 'HOLDER' };

const PRIMARY_KEY = { partitionKey: 'pk', sortKey: 'sk' };

/** The global secondary indexes by name, with their key attributes (all projected whole). */
const INDEX = {
  byPrincipal: { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byStatus: { partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  byPendingRule: { partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  all: { partitionKey: 'gsi4pk', sortKey: 'gsi4sk' },
};

/** Epoch seconds after which DynamoDB removes an item. */
const TTL_ATTRIBUTE = 'ttl';

const keySchema = (key) => [
  { AttributeName: key.partitionKey, KeyType: 'HASH' },
  { AttributeName: key.sortKey, KeyType: 'RANGE' },
];

/** Keys and indexes in the shape CloudFormation's AWS::DynamoDB::Table and CreateTable share. */
const TABLE_KEYS = {
  AttributeDefinitions: [PRIMARY_KEY, ...Object.values(INDEX)]
    .flatMap((key) => [key.partitionKey, key.sortKey])
    .map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
  KeySchema: keySchema(PRIMARY_KEY),
  GlobalSecondaryIndexes: Object.entries(INDEX).map(([IndexName, key]) => ({
    IndexName,
    KeySchema: keySchema(key),
    Projection: { ProjectionType: 'ALL' },
  })),
};

/**
 * What the state machines' slot tasks spell, as DefinitionSubstitutions (strings: CloudFormation
 * replaces `${Name}` in the definition text). `States.MathRandom(0, ${SlotCount})` draws 0..count-1.
 */
const STATE_MACHINE_SUBSTITUTIONS = {
  SlotCount: String(SLOT_COUNT),
  SlotKeyPrefix: KEY_PREFIX.slot,
  SlotSortKey: SORT_KEY.slot,
  SlotWaitersKey: `${KEY_PREFIX.slot}${SLOT_WAITERS}`,
  /** The sort-key prefix of the revocations in the line (a revocation hands its slot only to another revocation). */
  SlotRevocationWaiters: `${SLOT_WAITER_PRIORITY.revoke}#`,
  /** The partition of the session cuts the sweeper retries (the revoke workflow's RecordSessionsPending). */
  SessionsPendingKey: `${KEY_PREFIX.sessions}${SESSION_PARTITION.pending}`,
};

module.exports = {
  SLOT_COUNT,
  SLOTS_RESERVED_FOR_REVOCATIONS,
  KEY_PREFIX,
  SORT_KEY,
  SLOT_WAITERS,
  SLOT_WAITER_PRIORITY,
  SESSION_PARTITION,
  RECONCILE,
  ALL_PARTITION,
  PRIMARY_KEY,
  INDEX,
  TTL_ATTRIBUTE,
  TABLE_KEYS,
  STATE_MACHINE_SUBSTITUTIONS,
};
