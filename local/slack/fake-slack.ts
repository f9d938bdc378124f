/**
 * A fake Slack Web API on loopback for local runs and tests. WebClient's
 * `slackApiUrl` (env SLACK_API_URL) points at `${url}/api/`. Every call is
 * recorded, messages keep their latest content (so chat.update is visible),
 * and response_url posts are accepted and recorded too.
 *
 * It also plays Slack's other side: it can build and sign the requests Slack
 * sends to the app (slash commands, interactions).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../lib/slack/signature.ts';
import { closer, listen, readText } from '../protocol/http.ts';

export interface FakeSlackUser {
  id: string;
  name: string;
  email?: string;
  isBot?: boolean;
  deleted?: boolean;
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
}

export interface ResponseUrlPost {
  url: string;
  body: Record<string, unknown>;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  /** How many times chat.update rewrote it. */
  updates: number;
}

export interface FakeSlackOptions {
  users?: FakeSlackUser[];
  /** When set, calls with another bearer token get `invalid_auth`. */
  botToken?: string;
  port?: number;
}

export interface FakeSlack {
  /** http://127.0.0.1:<port> */
  url: string;
  /** What WebClient's slackApiUrl should be. */
  apiUrl: string;
  calls(method?: string): RecordedCall[];
  responseUrlPosts(): ResponseUrlPost[];
  /** Messages by channel, latest content. */
  messages(channel?: string): StoredMessage[];
  /** Mints a response_url the fake accepts. */
  newResponseUrl(): string;
  addUser(user: FakeSlackUser): void;
  /** The next call of `method` answers `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  /** The next call of `method` answers HTTP 429 with this Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  reset(): void;
  stop(): Promise<void>;
}

function parseBody(req: IncomingMessage, text: string): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    // WebClient JSON-encodes nested arguments (blocks, view) inside the form.
    out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const users = new Map<string, FakeSlackUser>();
  for (const u of options.users ?? []) users.set(u.id, u);
  let recorded: RecordedCall[] = [];
  let responses: ResponseUrlPost[] = [];
  let stored = new Map<string, StoredMessage>();
  const failures = new Map<string, string[]>();
  const rateLimits = new Map<string, number[]>();
  const views = new Map<string, unknown>();
  let seq = 0;
  let baseUrl = '';

  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
  const userJson = (u: FakeSlackUser) => ({
    id: u.id,
    name: u.name,
    deleted: !!u.deleted,
    is_bot: !!u.isBot,
    profile: { real_name: u.name, display_name: u.name, ...(u.email ? { email: u.email } : {}) },
  });
  const channelId = (c: unknown) => {
    const s = String(c ?? '');
    // Slack answers with the id even when a #name was given.
    return s.startsWith('#') ? `C${s.slice(1).toUpperCase().replace(/[^A-Z0-9]/g, '')}` : s;
  };

  function api(method: string, a: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', team_id: 'TFAKE' };
      case 'users.info': {
        const u = users.get(String(a.user));
        return u ? { ok: true, user: userJson(u) } : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail': {
        const email = String(a.email ?? '').toLowerCase();
        const u = [...users.values()].find((x) => x.email?.toLowerCase() === email && !x.deleted);
        return u ? { ok: true, user: userJson(u) } : { ok: false, error: 'users_not_found' };
      }
      case 'conversations.open': {
        const ids = String(a.users ?? '').split(',').filter(Boolean);
        if (ids.length !== 1 || !users.has(ids[0]!)) return { ok: false, error: 'user_not_found' };
        return { ok: true, channel: { id: `D${ids[0]}` } };
      }
      case 'chat.postMessage': {
        if (!a.channel) return { ok: false, error: 'channel_not_found' };
        if (!a.text && !a.blocks) return { ok: false, error: 'no_text' };
        const channel = channelId(a.channel);
        const ts = nextTs();
        const message: StoredMessage = { channel, ts, updates: 0 };
        if (a.text !== undefined) message.text = String(a.text);
        if (Array.isArray(a.blocks)) message.blocks = a.blocks;
        stored.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, message: { text: a.text, blocks: a.blocks } };
      }
      case 'chat.update': {
        const key = `${channelId(a.channel)}/${String(a.ts)}`;
        const m = stored.get(key);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (a.text !== undefined) m.text = String(a.text);
        if (Array.isArray(a.blocks)) m.blocks = a.blocks;
        m.updates++;
        return { ok: true, channel: m.channel, ts: m.ts };
      }
      case 'chat.postEphemeral':
        if (!a.channel || !a.user) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: nextTs() };
      case 'views.open': {
        if (!a.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (!a.view) return { ok: false, error: 'invalid_arguments' };
        const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
        views.set(id, a.view);
        return { ok: true, view: { ...(a.view as object), id } };
      }
      case 'views.update': {
        const id = String(a.view_id ?? '');
        if (!views.has(id)) return { ok: false, error: 'not_found' };
        views.set(id, a.view);
        return { ok: true, view: { ...(a.view as object), id } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const text = await readText(req);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return send(405, { ok: false, error: 'method_not_allowed' });
    if (path.startsWith('/response/')) {
      responses.push({ url: `${baseUrl}${path}`, body: parseBody(req, text) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const m = /^\/api\/([a-zA-Z.]+)$/.exec(path);
    if (!m) return send(404, { ok: false, error: 'unknown_method' });
    const method = m[1]!;
    const args = parseBody(req, text);
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    delete args.token;
    recorded.push({ method, args, ...(token ? { token } : {}) });
    const limited = rateLimits.get(method)?.shift();
    if (limited !== undefined) return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limited) });
    if (options.botToken && token !== options.botToken) return send(200, { ok: false, error: 'invalid_auth' });
    const failure = failures.get(method)?.shift();
    if (failure) return send(200, { ok: false, error: failure });
    send(200, api(method, args));
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'fatal_error', detail: String(e) }));
    });
  });
  baseUrl = `http://127.0.0.1:${await listen(server, options.port ?? 0)}`;

  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    calls: (method) => (method ? recorded.filter((c) => c.method === method) : [...recorded]),
    responseUrlPosts: () => [...responses],
    messages: (channel) => [...stored.values()].filter((m) => !channel || m.channel === channel),
    newResponseUrl: () => `${baseUrl}/response/${randomBytes(8).toString('hex')}`,
    addUser: (u) => void users.set(u.id, u),
    failNext: (method, error) => void failures.set(method, [...(failures.get(method) ?? []), error]),
    rateLimitNext: (method, s) => void rateLimits.set(method, [...(rateLimits.get(method) ?? []), s]),
    reset: () => {
      recorded = [];
      responses = [];
      stored = new Map();
      failures.clear();
      rateLimits.clear();
    },
    stop: closer(server),
  };
}

// ---- Slack's side: the signed requests it sends to the app ----------------

export interface SignedSlackRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SlashCommandInput {
  userId: string;
  text: string;
  channelId?: string;
  triggerId?: string;
  responseUrl?: string;
  command?: string;
}

export function slashCommandRequest(signingSecret: string, input: SlashCommandInput, nowMs = Date.now()): SignedSlackRequest {
  const body = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'TFAKE',
    channel_id: input.channelId ?? 'CREQUESTS',
    user_id: input.userId,
    command: input.command ?? '/jit',
    text: input.text,
    api_app_id: 'AFAKE',
    response_url: input.responseUrl ?? 'http://127.0.0.1:9/response/none',
    trigger_id: input.triggerId ?? `${Date.now()}.${randomBytes(6).toString('hex')}`,
  }).toString();
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(signingSecret, body, nowMs) } };
}

export function interactionRequest(signingSecret: string, payload: Record<string, unknown>, nowMs = Date.now()): SignedSlackRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(signingSecret, body, nowMs) } };
}

/** A block_actions payload as Slack sends it when a button is clicked. */
export function buttonClick(input: { userId: string; actionId: string; value: string; channelId?: string; messageTs?: string; responseUrl?: string }) {
  return {
    type: 'block_actions',
    user: { id: input.userId },
    api_app_id: 'AFAKE',
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    ...(input.responseUrl ? { response_url: input.responseUrl } : {}),
    ...(input.channelId ? { channel: { id: input.channelId }, container: { type: 'message', channel_id: input.channelId, message_ts: input.messageTs } } : {}),
    actions: [{ type: 'button', action_id: input.actionId, value: input.value, block_id: 'b', action_ts: String(Date.now() / 1000) }],
  };
}

/** A view_submission payload with the given input values (block_id = action_id, as our modals use). */
export function viewSubmission(input: {
  userId: string;
  callbackId: string;
  viewId?: string;
  privateMetadata?: string;
  values: Record<string, { value?: string; selected?: string }>;
}) {
  const values = Object.fromEntries(
    Object.entries(input.values).map(([id, v]) => [
      id,
      { [id]: v.selected !== undefined ? { type: 'static_select', selected_option: { value: v.selected } } : { type: 'plain_text_input', value: v.value ?? null } },
    ]),
  );
  return {
    type: 'view_submission',
    user: { id: input.userId },
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    view: {
      id: input.viewId ?? `V${randomBytes(5).toString('hex').toUpperCase()}`,
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      state: { values },
    },
  };
}
