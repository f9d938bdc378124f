import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJitCommand, tokenize } from '../../lib/slack/command-parser.ts';
import { parseDurationInput } from '../../lib/slack/inputs.ts';
import { CALLBACK, REQUEST_FIELDS, ACTION } from '../../lib/slack/views.ts';
import { buttonClick, interactionRequest, slashCommandRequest, viewSubmission } from '../../local/slack/fake-slack.ts';
import { signSlackRequest } from '../../lib/slack/signature.ts';
import { invoke, SIGNING_SECRET } from './harness.ts';
import { startSlackTestCloud, USERS, type SlackTestCloud } from './slack-cloud.ts';

describe('parseJitCommand', () => {
  it('parses every subcommand', () => {
    expect(parseJitCommand('')).toEqual({ ok: true, command: { kind: 'open-modal' } });
    expect(parseJitCommand('  help ')).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseJitCommand('list')).toEqual({ ok: true, command: { kind: 'list', view: 'mine' } });
    expect(parseJitCommand('list approvals')).toEqual({ ok: true, command: { kind: 'list', view: 'approvals' } });
    expect(parseJitCommand('revoke 01j9z3y4n6a8b2c4d6e8f0g2h4 done early')).toEqual({
      ok: true,
      command: { kind: 'revoke', grantId: '01J9Z3Y4N6A8B2C4D6E8F0G2H4', reason: 'done early' },
    });
    expect(parseJitCommand('request 555555555555 PowerUserAccess 90m fix the &lt;thing&gt; ticket:OPS-1')).toEqual({
      ok: true,
      command: { kind: 'request', target: { type: 'account', account: '555555555555', permissionSet: 'PowerUserAccess' }, duration: 'PT1H30M', justification: 'fix the <thing>', ticket: 'OPS-1' },
    });
    expect(parseJitCommand('request “Data Lake Prod” ReadOnlyAccess PT2H why')).toMatchObject({ ok: true, command: { target: { account: 'Data Lake Prod' }, duration: 'PT2H' } });
    expect(parseJitCommand('request group BreakGlass 1h outage')).toMatchObject({ ok: true, command: { target: { type: 'group', group: 'BreakGlass' }, duration: 'PT1H' } });
    expect(parseJitCommand('request BreakGlass 1h outage')).toMatchObject({ ok: true, command: { target: { type: 'group', group: 'BreakGlass' } } });
  });

  it('says what is wrong with a malformed command', () => {
    const error = (text: string) => {
      const r = parseJitCommand(text);
      return r.ok ? 'parsed' : r.error;
    };
    expect(error('frobnicate')).toContain('Unknown subcommand `frobnicate`');
    expect(error('request')).toContain('needs an account, a permission set');
    expect(error('request 555555555555 PowerUserAccess')).toContain('duration is missing');
    expect(error('request 555555555555 PowerUserAccess forever because')).toContain('`forever` is not a duration');
    expect(error('request 555555555555 PowerUserAccess 2h')).toContain('justification');
    expect(error('request group')).toContain('needs a group name');
    expect(error('request "Data Lake ReadOnlyAccess 2h x')).toContain('quoted name is not closed');
    expect(error('revoke')).toContain('needs a grant id');
    expect(error('revoke 42')).toContain('`42` is not a grant id');
    expect(error('list everything')).toContain('takes one of mine, approvals, active');
  });

  it('reads friendly and ISO durations', () => {
    expect(parseDurationInput('30m')).toBe('PT30M');
    expect(parseDurationInput('2h')).toBe('PT2H');
    expect(parseDurationInput('1d')).toBe('P1D');
    expect(parseDurationInput('1h30m')).toBe('PT1H30M');
    expect(parseDurationInput('pt45m')).toBe('PT45M');
    expect(parseDurationInput('0m')).toBeUndefined();
    expect(parseDurationInput('2 hours')).toBeUndefined();
    expect(tokenize('a "b c" d').tokens).toEqual(['a', 'b c', 'd']);
  });
});

describe('/jit over the real service', () => {
  let t: SlackTestCloud;
  beforeAll(async () => {
    t = await startSlackTestCloud();
  });
  afterAll(async () => {
    await t?.stop();
  });
  const command = (userId: string, text: string, extra: { triggerId?: string } = {}) => invoke(t.commands, slashCommandRequest(SIGNING_SECRET, { userId, text, ...extra }));
  const interact = (payload: Record<string, unknown>) => invoke(t.interactions, interactionRequest(SIGNING_SECRET, payload), { path: '/slack/interactions' });

  it('handles url_verification and ssl_check', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const res = await invoke(t.commands, { body, headers: { 'content-type': 'application/json', ...signSlackRequest(SIGNING_SECRET, body) } });
    expect(res.json).toEqual({ challenge: 'abc123' });
    const ssl = 'ssl_check=1&token=x';
    const ok = await invoke(t.commands, { body: ssl, headers: signSlackRequest(SIGNING_SECRET, ssl) });
    expect(ok).toMatchObject({ status: 200, text: '' });
  });

  it('answers help and usage errors without touching the service or Slack', async () => {
    const before = t.slack.calls().length;
    const help = await command(USERS.bob.id, 'help');
    expect(JSON.stringify(help.json)).toContain('/jit request <account id or name>');
    const bad = await command(USERS.bob.id, 'request 555555555555 PowerUserAccess soon please');
    expect(bad.json?.response_type).toBe('ephemeral');
    expect(String(bad.json?.text)).toContain('`soon` is not a duration');
    expect(JSON.stringify(bad.json?.blocks)).toContain('Usage');
    expect(t.slack.calls().length).toBe(before);
  });

  it('/jit alone opens the request modal listing what the caller may request', async () => {
    const res = await command(USERS.bob.id, '', { triggerId: 'trigger-123' });
    expect(res).toMatchObject({ status: 200, text: '' });
    const open = t.slack.calls('views.open').at(-1)!;
    expect(open.args.trigger_id).toBe('trigger-123');
    const view = open.args.view as { callback_id: string; blocks: { block_id?: string; element?: { options?: { value: string; text: { text: string } }[] } }[] };
    expect(view.callback_id).toBe(CALLBACK.request);
    const options = view.blocks.find((b) => b.block_id === REQUEST_FIELDS.target)!.element!.options!;
    const values = options.map((o) => o.value);
    expect(values).toContain('a|555555555555|PowerUserAccess');
    expect(values).toContain('a|444444444444|ReadOnlyAccess');
    expect(values).not.toContain('a|444444444444|AdministratorAccess'); // admin on dev is for platform admins only
  });

  it('a modal submission files the request; bad fields come back as field errors', async () => {
    const bad = await interact(viewSubmission({ userId: USERS.bob.id, callbackId: CALLBACK.request, values: { target: {}, duration: { value: 'ages' }, justification: { value: '' } } }));
    expect(bad.json).toMatchObject({ response_action: 'errors', errors: { target: expect.any(String), duration: expect.stringContaining('ages'), justification: expect.any(String) } });

    const tooLong = await interact(
      viewSubmission({ userId: USERS.bob.id, callbackId: CALLBACK.request, values: { target: { selected: 'a|444444444444|ReadOnlyAccess' }, duration: { value: '12h' }, justification: { value: 'look at logs' } } }),
    );
    expect(tooLong.json).toMatchObject({ response_action: 'errors', errors: { duration: expect.stringMatching(/PT4H|4h|at most/i) } });

    const sub = viewSubmission({ userId: USERS.bob.id, callbackId: CALLBACK.request, values: { target: { selected: 'a|444444444444|ReadOnlyAccess' }, duration: { value: '1h' }, justification: { value: 'look at logs' }, ticket: { value: 'OPS-7' } } });
    const ok = await interact(sub);
    expect(ok.json?.response_action).toBe('update');
    const id = /Grant `([0-9A-Z]{26})`/.exec(JSON.stringify(ok.json))?.[1];
    expect((await t.runtime.store.get(id!))).toMatchObject({ status: 'APPROVED', ticket: 'OPS-7', quorum: 0 });
    // A double-clicked submit (same view) answers with the same grant.
    const again = await interact({ ...sub, trigger_id: 'other' });
    expect(JSON.stringify(again.json)).toContain(id!);
    expect(JSON.stringify(again.json)).toContain('already submitted');
  });

  it('/jit request resolves an account by name, case-insensitively, and refuses an unknown name', async () => {
    const res = await command(USERS.carol.id, 'request PAYMENTS-DEV ReadOnlyAccess 30m check a deploy');
    expect(String(res.json?.text)).toContain('ReadOnlyAccess on payments-dev (444444444444)');
    const unknown = await command(USERS.carol.id, 'request nowhere ReadOnlyAccess 30m check');
    expect(String(unknown.json?.text)).toContain('No account named `nowhere`');
    const refused = await command(USERS.carol.id, 'request 444444444444 AdministratorAccess 30m please');
    expect(String(refused.json?.text)).toMatch(/^:warning: /);
  });

  it('/jit list shows my grants and approvals waiting for me', async () => {
    const mine = await command(USERS.carol.id, 'list');
    expect(JSON.stringify(mine.json)).toContain('payments-dev');
    await command(USERS.carol.id, 'request payments-prod PowerUserAccess 1h deploy');
    const waiting = await command(USERS.dave.id, 'list approvals');
    expect(JSON.stringify(waiting.json)).toContain('Requests waiting for your approval');
    expect(JSON.stringify(waiting.json)).toContain('(carol)');
  });

  it('/jit revoke refuses what is not revocable and someone else’s grant', async () => {
    const mine = (await t.runtime.store.listByPrincipal((await t.runtime.service.callerForEmail('carol@example.com')).userId, { limit: 10 })).items;
    const pending = mine.find((g) => g.status === 'PENDING_APPROVAL')!;
    const res = await command(USERS.carol.id, `revoke ${pending.id}`);
    expect(String(res.json?.text)).toContain('is PENDING_APPROVAL; cancel it instead');
    const other = await command(USERS.bob.id, `revoke ${pending.id}`);
    expect(String(other.json?.text)).toContain('Not allowed');
    const missing = await command(USERS.bob.id, 'revoke 01J9Z3Y4N6A8B2C4D6E8F0G2H4');
    expect(String(missing.json?.text)).toContain('Not found');
  });

  it('unknown Slack users get a clear message', async () => {
    expect(String((await command('UNOBODY', 'list')).json?.text)).toContain('Slack does not know user UNOBODY');
    expect(String((await command(USERS.noEmail.id, 'list')).json?.text)).toContain('no email address');
    expect(String((await command(USERS.eve.id, 'list')).json?.text)).toMatch(/no IAM Identity Center user matches email eve@elsewhere.example/);
  });

  it('Deny opens a reason modal; submitting it denies and DMs the requester with the reason', async () => {
    const carol = await t.runtime.service.callerForEmail('carol@example.com');
    const pending = (await t.runtime.store.listByPrincipal(carol.userId, { limit: 10 })).items.find((g) => g.status === 'PENDING_APPROVAL')!;
    const click = buttonClick({ userId: USERS.dave.id, actionId: ACTION.deny, value: pending.id, channelId: 'CPRODACCESS', responseUrl: t.slack.newResponseUrl() });
    expect((await interact(click)).status).toBe(200);
    const open = t.slack.calls('views.open').at(-1)!;
    expect(open.args.trigger_id).toBe(click.trigger_id);
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(CALLBACK.decision);

    // A non-approver submitting the same modal is refused on the modal.
    const sneaky = await interact(viewSubmission({ userId: USERS.bob.id, callbackId: CALLBACK.decision, privateMetadata: view.private_metadata, values: { comment: { value: 'no' } } }));
    expect(sneaky.json).toMatchObject({ response_action: 'errors', errors: { comment: expect.stringContaining('not an approver') } });

    const res = await interact(viewSubmission({ userId: USERS.dave.id, callbackId: CALLBACK.decision, privateMetadata: view.private_metadata, values: { comment: { value: 'use staging' } } }));
    expect(res.json).toEqual({ response_action: 'clear' });
    expect((await t.runtime.store.get(pending.id))?.status).toBe('DENIED');
    const dm = t.slack.messages(`D${USERS.carol.id}`).at(-1)!;
    expect(dm.text).toContain('was denied by dave@example.com');
    expect(JSON.stringify(dm.blocks)).toContain('use staging');
  });
});
