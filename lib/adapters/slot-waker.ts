/**
 * `SlotWaker` on Step Functions: SendTaskSuccess with the given output (the slot's key, or an
 * activation's plan on that slot) answers the waiting task's token. A token whose task has ended (the execution stopped, timed out or already
 * took a slot up) is 'gone', so the caller hands the slot to the next waiter instead.
 * The Step Functions client loads on first use (lib/adapters/lazy-sdk.ts).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SlotWaker } from '../ports/index.ts';
import { errorName } from './aws-retry.ts';
import { clientProvider, lazySdk, type ClientSource } from './lazy-sdk.ts';

const GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

export class StepFunctionsSlotWaker implements SlotWaker {
  private readonly sfn: () => Promise<SFNClient>;

  constructor(sfn: ClientSource<SFNClient>) {
    this.sfn = clientProvider(sfn);
  }

  async wake(token: string, output: object): Promise<'woken' | 'gone'> {
    const [client, { SendTaskSuccessCommand }] = await Promise.all([this.sfn(), lazySdk.sfn()]);
    try {
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return 'woken';
    } catch (err) {
      if (GONE.has(errorName(err) ?? '')) return 'gone';
      throw err;
    }
  }
}
