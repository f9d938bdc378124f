/**
 * Realism knobs of the local Identity Center: provisioning delays, the real
 * quotas (on by default) and fault injection. Settable at construction, from
 * the environment (or a JSON config file) and at runtime (`setKnobs`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';

/** Error codes a fault rule may answer with (as AWS names them). */
export const INJECTABLE_ERRORS = [
  'ThrottlingException',
  'ConflictException',
  'InternalServerException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ValidationException',
  'ServiceQuotaExceededException',
  // Organizations' throttle and its answer to a write racing another on the same policy or target.
  'TooManyRequestsException',
  'ConcurrentModificationException',
] as const;

export const IAM_ROLE_QUOTA_REASON =
  'Request failed because the IAM role quota in the target account was exceeded. Increase the quota for IAM roles in the account, or remove unused roles.';
export const NOT_SUPPORTED_POLICY_REASON =
  'Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/DoesNotExist.';

const faultRuleSchema = z.strictObject({
  /** Operation names this rule applies to (e.g. CreateAccountAssignment); all when absent. */
  operations: z.array(z.string()).optional(),
  /** Only when the target account (TargetId / AccountId) is this one. */
  accountId: z.string().optional(),
  principalId: z.string().optional(),
  permissionSetArn: z.string().optional(),
  groupId: z.string().optional(),
  /** Probability 0..1 that a matching call is hit (default 1). */
  rate: z.number().min(0).max(1).default(1),
  /** Fire at most this many times, then the rule goes quiet. */
  times: z.number().int().positive().optional(),
  /**
   * `fail`: an async assignment operation ends FAILED with this reason (only
   * Create/DeleteAccountAssignment). `error`: the call itself answers this AWS error.
   */
  effect: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('fail'), reason: z.string().default(IAM_ROLE_QUOTA_REASON) }),
    z.strictObject({ type: z.literal('error'), code: z.enum(INJECTABLE_ERRORS), message: z.string().optional() }),
  ]),
});
export type FaultRule = z.input<typeof faultRuleSchema>;
type ParsedFaultRule = z.output<typeof faultRuleSchema>;

export const knobsSchema = z.strictObject({
  /** How long Create/DeleteAccountAssignment stays IN_PROGRESS: uniform in [minMs, maxMs]. */
  provisioningDelayMs: z
    .strictObject({ minMs: z.number().min(0), maxMs: z.number().min(0) })
    .refine((d) => d.maxMs >= d.minMs, 'maxMs must be >= minMs')
    .default({ minMs: 300, maxMs: 1500 }),
  /** Collective token bucket across sso-admin + identitystore (AWS: 20 TPS, not adjustable). 0 turns it off. */
  throttleTps: z.number().min(0).default(20),
  /** Bucket size: how many calls may burst at once. Defaults to throttleTps. */
  throttleBurst: z.number().min(0).optional(),
  /** Outstanding (IN_PROGRESS) async assignment operations allowed (AWS: 10). 0 turns it off. */
  maxOutstandingAsync: z.number().int().min(0).default(10),
  faults: z.array(faultRuleSchema).default([]),
  /** Seconds a service control policy change (create, update, attach, detach) takes to reach the accounts (AWS: seconds). */
  scpPropagationSeconds: z.number().min(0).default(3),
});

export type IdcKnobsInput = z.input<typeof knobsSchema>;
export type IdcKnobs = Omit<z.output<typeof knobsSchema>, 'faults'> & { faults: ParsedFaultRule[] };

export function parseKnobs(input: unknown, source = 'knobs'): IdcKnobs {
  const parsed = knobsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new Error(
      `Invalid Identity Center knobs (${source}):\n${parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n')}`,
    );
  }
  return parsed.data;
}

/** Defaults = the real service: delays, 20 TPS, 10 outstanding operations, no faults. */
export const DEFAULT_KNOBS: IdcKnobs = parseKnobs({});

function num(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

/**
 * Knobs from a config file and the environment (each optional):
 * - IDC_KNOBS_FILE: a YAML or JSON file in the knobsSchema shape (see local/knobs.example.yaml)
 * - IDC_KNOBS: a JSON object in the same shape, over the file (the vars below override both)
 * - IDC_DELAY_MS: "300-1500" (uniform range) or "0" (fixed)
 * - IDC_THROTTLE_TPS: 20; 0 disables the throttle
 * - IDC_MAX_OUTSTANDING: 10; 0 disables the quota
 * - IDC_FAILURE_RATE: 0..1, share of assignment operations that end FAILED (IAM role quota reason)
 * - IDC_FAIL_ACCOUNTS: comma-separated account ids whose assignments always end FAILED
 * - IDC_ERROR_RATE: 0..1, share of sso-admin/identitystore calls answering InternalServerException
 * - IDC_SCP_PROPAGATION_SECONDS: 3; how long an SCP change takes to apply
 */
export function knobsFromEnv(env: NodeJS.ProcessEnv = process.env): IdcKnobsInput {
  let base: Record<string, unknown> = {};
  if (env.IDC_KNOBS_FILE) {
    let text: string;
    try {
      text = readFileSync(env.IDC_KNOBS_FILE, 'utf8');
    } catch (e) {
      throw new Error(`IDC_KNOBS_FILE ${env.IDC_KNOBS_FILE} cannot be read: ${(e as Error).message}`);
    }
    base = (parseYaml(text) ?? {}) as Record<string, unknown>;
    parseKnobs(base, env.IDC_KNOBS_FILE);
  }
  if (env.IDC_KNOBS) {
    try {
      base = { ...base, ...(JSON.parse(env.IDC_KNOBS) as Record<string, unknown>) };
    } catch (e) {
      throw new Error(`IDC_KNOBS is not valid JSON: ${(e as Error).message}`);
    }
  }
  const out: Record<string, unknown> = { ...base };
  if (env.IDC_DELAY_MS) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(env.IDC_DELAY_MS);
    if (!m) throw new Error(`IDC_DELAY_MS must be "MIN-MAX" or "MS", got "${env.IDC_DELAY_MS}"`);
    out.provisioningDelayMs = { minMs: Number(m[1]), maxMs: Number(m[2] ?? m[1]) };
  }
  const tps = num(env, 'IDC_THROTTLE_TPS');
  if (tps !== undefined) out.throttleTps = tps;
  const outstanding = num(env, 'IDC_MAX_OUTSTANDING');
  if (outstanding !== undefined) out.maxOutstandingAsync = outstanding;
  const propagation = num(env, 'IDC_SCP_PROPAGATION_SECONDS');
  if (propagation !== undefined) out.scpPropagationSeconds = propagation;
  const faults: FaultRule[] = [...((base.faults as FaultRule[] | undefined) ?? [])];
  const failureRate = num(env, 'IDC_FAILURE_RATE');
  if (failureRate) {
    faults.push({ operations: ['CreateAccountAssignment', 'DeleteAccountAssignment'], rate: failureRate, effect: { type: 'fail' } });
  }
  for (const accountId of (env.IDC_FAIL_ACCOUNTS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    faults.push({ operations: ['CreateAccountAssignment'], accountId, effect: { type: 'fail' } });
  }
  const errorRate = num(env, 'IDC_ERROR_RATE');
  if (errorRate) faults.push({ rate: errorRate, effect: { type: 'error', code: 'InternalServerException' } });
  if (faults.length > 0) out.faults = faults;
  parseKnobs(out, 'environment');
  return out as IdcKnobsInput;
}
