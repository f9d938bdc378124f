/**
 * The policy file's shape (zod) and the normalized form the engine uses.
 *
 * Validation happens in two passes (see load.ts): this structural schema, then
 * cross-field checks (duration ordering, duplicate ids, quorum...) that need
 * defaults merged in. Both report paths into the YAML so errors carry line and column.
 */
import * as z from 'zod';
import { parseDuration } from '../domain/duration.ts';

export const RULE_ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
/** Identity Center permission set names: 1-32 of [\w+=,.@-]. */
export const PERMISSION_SET_NAME_PATTERN = /^[\w+=,.@-]{1,32}$/;

/** Built-in defaults used when the file has no `defaults` section (or leaves a field out). */
export const BUILTIN_DEFAULTS = {
  pendingExpiry: 'PT24H',
  duration: { min: 'PT15M', max: 'PT8H', default: 'PT1H' },
} as const;

const durationText = z
  .string()
  .refine((text) => (parseDuration(text) ?? 0) > 0, {
    message: 'must be a positive ISO 8601 duration such as PT30M, PT8H or P1D (days, hours, minutes, seconds)',
  });

const nonEmptyName = z.string().trim().min(1, 'must not be empty');

/**
 * YAML reads an unquoted 123456789012 as a number and drops leading zeros
 * (012345678901 becomes 12345678901), so numbers are accepted only when they
 * still have 12 digits, and the message says to quote otherwise.
 */
const accountId = z.union([z.string(), z.number()], { error: 'must be a 12-digit AWS account id' }).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value;
  if (!ACCOUNT_ID_PATTERN.test(text)) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof value === 'number'
          ? `must be a 12-digit AWS account id (YAML read the number ${text}); write account ids in quotes so leading zeros are kept`
          : 'must be a 12-digit AWS account id',
    });
    return z.NEVER;
  }
  return text;
});

/** Tag values are strings in AWS; YAML may read `true` or `2024` as other scalars, so scalars become text. */
const tagValue = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a tag value or a list of them' }).transform((v) => String(v));

export const principalsSchema = z.strictObject({
  /** Identity Store users by email (case-insensitive) or userName. */
  users: z.array(nonEmptyName).default([]),
  /** Identity Store groups by display name. */
  groups: z.array(nonEmptyName).default([]),
});

export const durationBoundsInputSchema = z.strictObject({
  min: durationText.optional(),
  max: durationText.optional(),
  default: durationText.optional(),
  /** Cap on the total time including extensions; defaults to max. */
  maxTotal: durationText.optional(),
});

export const accountSelectorSchema = z.strictObject({
  ids: z.array(accountId).default([]),
  ous: z.array(z.string().regex(OU_ID_PATTERN, 'must be an OU id such as ou-ab12-cd34ef56')).default([]),
  tags: z.record(z.string().min(1, 'tag key must not be empty'), z.union([tagValue, z.array(tagValue).min(1, 'must list at least one value')], { error: 'must be a tag value or a list of them' })).default({}),
});

export const targetsInputSchema = z.strictObject({
  accounts: accountSelectorSchema.optional(),
  permissionSets: z
    .array(z.string().regex(PERMISSION_SET_NAME_PATTERN, 'must be a permission set name (1-32 of letters, digits and +=,.@_-)'))
    .optional(),
  groups: z.array(nonEmptyName).optional(),
});

export const approvalInputSchema = z.strictObject({
  autoApprove: z.boolean().default(false),
  approvers: principalsSchema.optional(),
  quorum: z.number().int('must be a whole number').min(1, 'must be at least 1').default(1),
  allowSelfApproval: z.boolean().default(false),
});

export const slackSchema = z.strictObject({
  /** Channel id (C0123ABCD) or name (#jit-approvals). */
  channel: nonEmptyName,
});

export const ruleInputSchema = z.strictObject({
  id: z.string().regex(RULE_ID_PATTERN, 'must be a lowercase slug such as dev-readonly').max(64, 'must be at most 64 characters'),
  description: z.string().optional(),
  requesters: principalsSchema,
  targets: targetsInputSchema,
  duration: durationBoundsInputSchema.optional(),
  approval: approvalInputSchema,
  pendingExpiry: durationText.optional(),
  slack: slackSchema.optional(),
});

export const defaultsInputSchema = z.strictObject({
  pendingExpiry: durationText.optional(),
  duration: durationBoundsInputSchema.optional(),
  slack: slackSchema.optional(),
});

/** What the hourly reconciler may do besides reporting. */
export const reconcileInputSchema = z.strictObject({
  /** Also remove covered access that this system did not create (default false: report only). */
  removeUnmanaged: z.boolean().default(false),
});

export const policyInputSchema = z.strictObject({
  version: z.literal(1, 'must be 1'),
  admins: principalsSchema.optional(),
  /** May read the audit trail and the access inventory of everyone, and nothing more. */
  auditors: principalsSchema.optional(),
  defaults: defaultsInputSchema.optional(),
  reconcile: reconcileInputSchema.optional(),
  rules: z.array(ruleInputSchema),
});

export type PolicyInput = z.output<typeof policyInputSchema>;
export type RuleInput = z.output<typeof ruleInputSchema>;
export type DefaultsInput = z.output<typeof defaultsInputSchema>;

// ---- normalized form: defaults merged, every optional field resolved ----

export interface Principals {
  users: string[];
  groups: string[];
}

/** ISO 8601 durations. min ≤ default ≤ max ≤ maxTotal holds after loading. */
export interface DurationBounds {
  min: string;
  max: string;
  default: string;
  maxTotal: string;
}

export interface AccountSelector {
  ids: string[];
  ous: string[];
  /** Every key must match; the account's value must be one of the listed values. */
  tags: Record<string, string[]>;
}

export interface AccountRuleTargets {
  type: 'account';
  accounts: AccountSelector;
  permissionSets: string[];
}

export interface GroupRuleTargets {
  type: 'group';
  groups: string[];
}

export type RuleTargets = AccountRuleTargets | GroupRuleTargets;

export interface ApprovalPolicy {
  autoApprove: boolean;
  approvers: Principals;
  quorum: number;
  allowSelfApproval: boolean;
}

export interface PolicyRule {
  id: string;
  description?: string;
  requesters: Principals;
  targets: RuleTargets;
  duration: DurationBounds;
  approval: ApprovalPolicy;
  pendingExpiry: string;
  slack?: { channel: string };
}

export interface PolicyDocument {
  version: 1;
  admins: Principals;
  auditors: Principals;
  defaults: {
    pendingExpiry: string;
    duration: DurationBounds;
    slack?: { channel: string };
  };
  reconcile: {
    /** Remove access in the policy's scope that no grant created (default false: only report it). */
    removeUnmanaged: boolean;
  };
  rules: PolicyRule[];
}
