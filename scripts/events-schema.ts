/**
 * Writes docs/events/grant-status-changed.schema.json from the event's zod schema
 * (lib/events/grant-event.ts). `npm run events:schema`; test/events/grant-event.test.ts
 * fails while the file differs from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GRANT_EVENT_SCHEMA_FILE, grantEventSchemaText } from '../lib/events/grant-event.ts';

const file = path.resolve(import.meta.dirname, '..', GRANT_EVENT_SCHEMA_FILE);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, grantEventSchemaText());
console.log(`wrote ${GRANT_EVENT_SCHEMA_FILE}`);
