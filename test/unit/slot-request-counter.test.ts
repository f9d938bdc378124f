/**
 * The workflows bench's count of slot writes: each request the edge sees (wire format) is
 * classified by what it does, and a grant's lease tries are placed by when they came in its
 * own sequence of writes.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { SlotRequestCounter, slotWriteKind } from '../../bench/histories.ts';
import { slotKey, slotWaiterKey } from '../../lib/table/keys.ts';
import { slotGiveWrite, slotLeaseWrite, slotReleaseWrite, type TableWrite } from '../../lib/table/prepared-writes.ts';

const NOW = '2026-12-02T12:00:00.000Z';
const LATER = '2026-12-02T13:00:00.000Z';

/** A prepared write as an UpdateItem request on the wire. */
const update = (write: TableWrite) => ({
  service: 'dynamodb',
  operation: 'UpdateItem',
  input: { TableName: 't', ...write, Key: marshall(write.Key), ExpressionAttributeValues: marshall(write.ExpressionAttributeValues ?? {}) },
});
const join = (owner: string) => ({ service: 'dynamodb', operation: 'PutItem', input: { TableName: 't', Item: marshall({ ...slotWaiterKey('activate', NOW, owner), owner, leaseExpiresAt: LATER }) } });

describe('slot request counter', () => {
  it('classifies lease tries, hand-overs, releases and joins from the request alone', () => {
    expect(slotWriteKind(update(slotLeaseWrite(3, 'activate#a', LATER, NOW)).operation, update(slotLeaseWrite(3, 'activate#a', LATER, NOW)).input)).toBe('slot: lease try');
    const give = update(slotGiveWrite(3, 'activate#b', LATER, NOW, 'token', 'activate#a'));
    expect(slotWriteKind(give.operation, give.input)).toBe('slot: given to a waiter');
    const release = update(slotReleaseWrite(3, 'activate#a'));
    expect(slotWriteKind(release.operation, release.input)).toBe('slot: released');
    expect(slotWriteKind('PutItem', join('activate#a').input)).toBe('line: joins');
  });

  it('places each lease try of a grant: on arrival, in the line, or after a slot was given to it', () => {
    const counter = new SlotRequestCounter();
    // a: two tries on arrival, then joins, is handed a slot (the releaser names it; its own key is :self) and renews it.
    counter.observe(update(slotLeaseWrite(1, 'activate#a', LATER, NOW)));
    counter.observe(update(slotLeaseWrite(2, 'activate#a', LATER, NOW)));
    counter.observe(join('activate#a'));
    counter.observe(update(slotGiveWrite(1, 'activate#a', LATER, NOW, 'token', 'activate#z')));
    counter.observe(update(slotLeaseWrite(1, 'activate#a', LATER, NOW)));
    // b: joins, then tries once more while in the line.
    counter.observe(join('activate#b'));
    counter.observe(update(slotLeaseWrite(4, 'activate#b', LATER, NOW)));

    expect(counter.leaseTriesByMoment(['a', 'b'])).toEqual({ 'on arrival': 2, 'in the line': 1, 'after a hand-over': 1 });
    expect(counter.leaseTriesByMoment(['b'])).toEqual({ 'on arrival': 0, 'in the line': 1, 'after a hand-over': 0 });
    expect(counter.writesFor('a')).toBe(5);
    expect(counter.writesFor('z')).toBe(0);
    expect(counter.snapshot().writesByKind).toEqual({ 'slot: lease try': 4, 'line: joins': 2, 'slot: given to a waiter': 1 });
  });
});
