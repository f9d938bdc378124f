/**
 * `npm run access:report -- [--format text|csv|json] [--api URL] [--token T] [--account ID] [--user U] [--permission-set NAME] [--group NAME]`
 *
 * Who holds what now (GET /access), then the standing-access summary: per account and permission
 * set (or group), how many principals hold it permanently and how many through JIT, most permanent
 * first — the list a team works down to remove standing access. Default API: the local gateway
 * (`npm start`, PORT) with a token for alice from the local issuer, as `npm run token` makes.
 */
import { parseArgs } from 'node:util';
import { AccessService, type AccessAnswer, type AccessItem } from '../lib/service/access.ts';
import { gatewayPortFromEnv } from '../local/jwt.ts';
import { main as localToken } from '../local/token.ts';

const USAGE = 'usage: npm run access:report -- [--format text|csv|json] [--api URL] [--token T] [--account ID] [--user U] [--permission-set NAME] [--group NAME]';
const FORMATS = ['text', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

const target = (i: AccessItem) => (i.account ? `${i.permissionSet} on ${i.account.name ? `${i.account.name} (${i.account.id})` : i.account.id}` : `member of ${i.group?.name ?? i.group?.id}`);
const until = (i: AccessItem) => i.grants.map((g) => g.until ?? '').join(' ');

function csvCell(value: string | number | undefined): string {
  const text = String(value ?? '');
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
const csvRow = (cells: (string | number | undefined)[]) => cells.map(csvCell).join(',');

/** The report in one format: the items, then the standing-access summary. */
export function formatReport(answer: AccessAnswer, format: Format): string {
  const summary = AccessService.standingAccess(answer.items);
  if (format === 'json') return JSON.stringify({ ...answer, standingAccess: summary }, null, 2);
  if (format === 'csv') {
    const items = [
      csvRow(['why', 'principalType', 'principal', 'account', 'accountName', 'permissionSet', 'group', 'grants', 'until', 'lastSeen', 'scimIssuer']),
      ...answer.items.map((i) =>
        csvRow([i.why, i.principal.type, i.principal.name ?? i.principal.id, i.account?.id, i.account?.name, i.permissionSet, i.group?.name ?? i.group?.id, i.grants.map((g) => g.id).join(' '), until(i), i.lastSeen, i.scimIssuer]),
      ),
    ];
    const standing = [csvRow(['target', 'permanent', 'jit']), ...summary.map((r) => csvRow([r.target, r.permanent, r.jit]))];
    return `${items.join('\n')}\n\n${standing.join('\n')}`;
  }
  const { lastPass, currentPass } = answer.freshness;
  const lines = [
    lastPass ? `Inventory as of ${lastPass.finishedAt} (pass ${lastPass.passId}, ${lastPass.strategy}, ${lastPass.calls} Identity Center calls)` : 'No reconcile pass has finished yet: only access granted by this system is shown.',
    ...(currentPass ? [`Pass under way since ${currentPass.startedAt}: ${currentPass.unitsDone}/${currentPass.unitsTotal} units`] : []),
    '',
    ...answer.items.map((i) => {
      const why = i.why === 'jit' ? `jit (${i.grants.map((g) => `${g.id} until ${g.until ?? '?'}`).join(', ')})` : 'permanent';
      return `${(i.principal.name ?? i.principal.id).padEnd(16)} ${target(i).padEnd(44)} ${why}${i.lastSeen ? `  seen ${i.lastSeen}` : ''}${i.scimIssuer ? `  [SCIM: ${i.scimIssuer}]` : ''}`;
    }),
    '',
    'Standing access (permanent vs JIT holders), worst first:',
    ...summary.map((r) => `  ${r.target.padEnd(52)} permanent ${String(r.permanent).padStart(4)}   jit ${String(r.jit).padStart(4)}`),
  ];
  return lines.join('\n');
}

export async function accessReport(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string', default: 'text' },
      api: { type: 'string' },
      token: { type: 'string' },
      account: { type: 'string' },
      user: { type: 'string' },
      'permission-set': { type: 'string' },
      group: { type: 'string' },
    },
  });
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new Error(`--format must be one of ${FORMATS.join(', ')}\n${USAGE}`);
  const api = values.api ?? `http://127.0.0.1:${gatewayPortFromEnv(env)}`;
  const token = values.token ?? (await localToken(['alice@example.com'], env)).token;
  const query = new URLSearchParams();
  for (const [param, value] of [['account', values.account], ['user', values.user], ['permissionSet', values['permission-set']], ['group', values.group]] as const) if (value) query.set(param, value);
  const res = await fetch(`${api.replace(/\/$/, '')}/access?${query}`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as AccessAnswer & { detail?: string };
  if (!res.ok) throw new Error(`GET /access answered ${res.status}: ${body.detail ?? JSON.stringify(body)}`);
  return formatReport(body, format);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(await accessReport(process.argv.slice(2)));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
