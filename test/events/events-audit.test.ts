/** Grant events and the audit export from the sources (the suite: events-audit.suite.ts). */
import { eventsAndAuditOverHttp } from './events-audit.suite.ts';

eventsAndAuditOverHttp({ packaged: false });
