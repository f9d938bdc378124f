/**
 * The part of the grant service the Slack handlers use. The real GrantService
 * (lib/service/grants.ts) satisfies it; tests may pass a double of the same shape.
 */
import type { Target } from '../domain/grant.ts';
import type { Caller, EligibilityEntry } from '../policy/engine.ts';
import type { GrantService, GrantRequestInput, ListView } from '../service/grants.ts';

export type SlackCaller = Caller;
export type { EligibilityEntry, GrantRequestInput, ListView };
export type RequestTargetInput = GrantRequestInput['target'];

export type SlackGrantService = Pick<
  GrantService,
  'callerForEmail' | 'request' | 'get' | 'list' | 'approve' | 'deny' | 'revoke' | 'extend' | 'eligibility'
>;

/** One concrete thing the caller may request (one target of one eligibility entry). */
export interface EligibleTarget {
  ruleId: string;
  target: Target;
  minDuration: string;
  maxDuration: string;
  defaultDuration: string;
  approvalRequired: boolean;
}

export function flattenEligibility(entries: EligibilityEntry[]): EligibleTarget[] {
  const seen = new Set<string>();
  const out: EligibleTarget[] = [];
  for (const e of entries) {
    for (const target of e.targets) {
      const key = target.type === 'account' ? `a|${target.accountId}|${target.permissionSet}` : `g|${target.group}`;
      // The first rule that offers a target is the one the service will pick too; later duplicates add nothing to a menu.
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        ruleId: e.ruleId,
        target,
        minDuration: e.duration.min,
        maxDuration: e.duration.max,
        defaultDuration: e.duration.default,
        approvalRequired: e.approvalRequired,
      });
    }
  }
  return out;
}
