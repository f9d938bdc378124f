/**
 * POST /slack/commands: the `/jit` slash command. Verifies, validates, makes at
 * most one service write (plus the reads it needs) and answers in the HTTP
 * response; the only Slack call awaited is views.open, whose trigger expires in 3 s.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger as defaultLogger } from '../logger.ts';
import { parseJitCommand, resolveRequestTarget, type JitCommand } from './command-parser.ts';
import { ACK, json, slackEndpoint, type SlackEndpointDeps, type SlackRuntime } from './endpoint.ts';
import { errorText, isAppError } from './error-text.ts';
import { fieldErrorsText, grantRequestFromCommand, parseSlashCommandForm, slackIdempotencyKey, type SlashCommandForm } from './inputs.ts';
import { flattenEligibility, type SlackCaller } from './service.ts';
import { ephemeral, grantListMessage, helpMessage, requestModal, requestResultMessage } from './views.ts';

const LIST_TITLES = { mine: 'Your grants', approvals: 'Requests waiting for your approval', active: 'Active grants' } as const;

export function createSlackCommandsHandler(deps: SlackEndpointDeps) {
  const log = deps.logger ?? defaultLogger;

  async function handle(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const body = event.body ?? '';
    if (body.trimStart().startsWith('{')) {
      // Events API handshake (when the same URL is registered for events).
      const parsed = safeJson(body);
      if (parsed?.type === 'url_verification' && typeof parsed.challenge === 'string') return json({ challenge: parsed.challenge });
      return ACK;
    }
    const form = new URLSearchParams(body);
    if (form.get('ssl_check') === '1') return ACK;
    const checked = parseSlashCommandForm(form);
    if (!checked.ok) {
      log.warn('slash command request not understood', { fields: checked.errors.map((e) => e.field), awsRequestId: context.awsRequestId });
      if (checked.errors.some((e) => e.field === 'user_id')) return json(ephemeral('This request does not name a Slack user.'));
      return json(ephemeral(`:warning: ${fieldErrorsText(checked.errors)}`));
    }
    const request = checked.value;

    const parsed = parseJitCommand(request.text);
    if (!parsed.ok) return json(helpMessage(`:warning: ${parsed.error}`));
    const command = parsed.command;
    if (command.kind === 'help') return json(helpMessage());

    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(request.user_id);
      return await run(runtime, caller, command, request);
    } catch (e) {
      if (!isAppError(e)) log.error('slash command failed', { error: e as Error, command: command.kind, awsRequestId: context.awsRequestId });
      return json(ephemeral(errorText(e, context.awsRequestId)));
    }
  }

  async function run(runtime: SlackRuntime, caller: SlackCaller, command: Exclude<JitCommand, { kind: 'help' }>, request: SlashCommandForm) {
    const { service } = runtime;
    switch (command.kind) {
      case 'open-modal': {
        if (!request.trigger_id) return json(ephemeral('Slack sent no trigger_id, so the form cannot open. Use `/jit request …` instead.'));
        const eligible = flattenEligibility(await service.eligibility(caller));
        const metadata = JSON.stringify({ channel: request.channel_id });
        await runtime.client.views.open({ trigger_id: request.trigger_id, view: requestModal(eligible, metadata) as never });
        return ACK;
      }
      case 'request': {
        // trigger_id is unique per command invocation: a resent command is answered with the first grant.
        const key = slackIdempotencyKey('slack:', request.trigger_id);
        if (!key.ok) return json(ephemeral(`:warning: ${fieldErrorsText(key.errors)}`));
        const { target: typed, kind: _kind, ...fields } = command;
        let target;
        if (typed.type === 'account' && !/^\d{12}$/.test(typed.account)) {
          const resolved = resolveRequestTarget(typed, flattenEligibility(await service.eligibility(caller)));
          if (!resolved.ok) return json(ephemeral(`:warning: ${resolved.error}`));
          target = resolved.target;
        } else {
          target = typed.type === 'account' ? { type: 'account' as const, accountId: typed.account, permissionSet: typed.permissionSet } : { type: 'group' as const, group: typed.group };
        }
        // The body POST /grants would take, checked by its schema.
        const body = grantRequestFromCommand(target, fields);
        if (!body.ok) return json(ephemeral(`:warning: ${fieldErrorsText(body.errors)}`));
        const { grant, replayed } = await service.request(caller, body.value, key.value);
        return json(requestResultMessage(grant, replayed));
      }
      case 'list': {
        const page = await service.list(caller, { view: command.view, limit: 20 });
        return json(grantListMessage(page.items, LIST_TITLES[command.view], !!page.cursor));
      }
      case 'revoke': {
        const grant = await service.revoke(caller, command.grantId, command.reason ?? `revoked from Slack by ${caller.email}`);
        return json(ephemeral(`Revoking \`${grant.id}\`: access is being removed now; the requester is told in Slack when it is gone.`));
      }
    }
  }

  return slackEndpoint(deps, handle);
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
