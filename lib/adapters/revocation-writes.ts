/**
 * The revoke workflow's last writes, prepared by its Lambda task and sent later by the
 * state machine's DynamoDB SDK tasks (RemoveHolder, FinishGrant), so a revocation needs one
 * Lambda invocation, not two. They are the writes DynamoStore makes (lib/table/prepared-writes.ts)
 * in low-level form; test/workflow checks a prepared write reads back through DynamoStore
 * like one made by it.
 */
import { applyTransition, type TransitionRequest } from '../domain/transition.ts';
import { holderRemovalWrite, lowLevel, transitionWrite } from '../table/prepared-writes.ts';
import type { PreparedWrite, RevocationWrites } from '../ports/index.ts';

export class DynamoRevocationWrites implements RevocationWrites {
  constructor(private readonly retentionDays: number) {}

  finishGrant(request: TransitionRequest): PreparedWrite {
    return lowLevel(transitionWrite(request, applyTransition(request), this.retentionDays));
  }

  removeHolder(assignmentKey: string): PreparedWrite {
    return lowLevel(holderRemovalWrite(assignmentKey));
  }
}
