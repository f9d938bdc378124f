/**
 * Grant events and the audit export as deployed: the packaged publishGrantEvents and getAudit,
 * each under its generated role with IAM enforced (events:PutEvents on the configured bus, the
 * audit items' puts and Queries), behind the gateway's JWT check. And the grant does not wait
 * on its events: with PutEvents denied, the grant still becomes ACTIVE, its entries still reach
 * the audit trail, and no event is published.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { resolveIntrinsics } from '../../local/serverless-config.ts';
import type { GrantEvent } from '../../lib/events/grant-event.ts';
import { editedPackage, withoutManagedPolicy, type EditedPackage } from '../support/edited-package.ts';
import { httpClient, startFastLocalCloud } from '../support/local-cloud.ts';
import { eventsAndAuditOverHttp, eventsOf, getAudit, until } from './events-audit.suite.ts';

eventsAndAuditOverHttp({ packaged: true });

describe('a packaged template whose PublishGrantEventsRole may not put events', () => {
  let cloud: LocalCloud;
  let edited: EditedPackage;
  const api = httpClient(() => cloud);
  beforeAll(async () => {
    edited = await editedPackage(withoutManagedPolicy('PublishGrantEventsRole', 'GrantEventsPutPolicy'));
    cloud = await startFastLocalCloud({ packaged: true, packageDir: edited.dir, scheduledFunctions: false });
  }, 180_000);
  afterAll(async () => {
    await cloud?.stop();
    edited?.remove();
  });

  it('activates the grant and keeps its audit trail, but publishes nothing: the role may not call PutEvents', async () => {
    const created = await api('POST', '/grants', 'carol@example.com', { target: { type: 'account', accountId: '444444444444', permissionSet: 'PowerUserAccess' }, duration: 'PT5M', justification: 'no bus' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await until(`grant ${id} ACTIVE`, async () => (await api('GET', `/grants/${id}`, 'carol@example.com')).body.status === 'ACTIVE');
    const trail = await until('its entries in the audit trail', async () => {
      const items = (JSON.parse((await getAudit(cloud, 'alice@example.com', { user: 'carol' })).text) as { items: GrantEvent[] }).items.filter((e) => e.grantId === id);
      return items.some((e) => e.to === 'ACTIVE') && items;
    });
    expect(trail.map((e) => e.to)).toEqual(['ACTIVE', 'ACTIVATING', 'APPROVED', 'PENDING_APPROVAL']);
    expect(eventsOf(cloud, id)).toEqual([]);
    const roleArn = String(resolveIntrinsics({ 'Fn::GetAtt': ['PublishGrantEventsRole', 'Arn'] }, cloud.config));
    expect(cloud.iam!.denied({ roleArn, sessionName: 'publishGrantEvents' }, { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default' })).toMatch(
      /is not authorized to perform: events:PutEvents/,
    );
  }, 60_000);
});
