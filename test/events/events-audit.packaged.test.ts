/**
 * Grant events and the audit export as deployed: the packaged publishGrantEvents and getAudit,
 * each under its generated role with IAM enforced (events:PutEvents on the configured bus, the
 * audit items' puts and Queries), behind the gateway's JWT check.
 */
import { eventsAndAuditOverHttp } from './events-audit.suite.ts';

eventsAndAuditOverHttp({ packaged: true });
