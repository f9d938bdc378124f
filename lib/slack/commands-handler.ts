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
    const slackUserId = form.get('user_id');
    if (!slackUserId) return json(ephemeral('This request has no Slack user.'));

    const parsed = parseJitCommand(form.get('text') ?? '');
    if (!parsed.ok) return json(helpMessage(`:warning: ${parsed.error}`));
    const command = parsed.command;
    if (command.kind === 'help') return json(helpMessage());

    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(slackUserId);
      return await run(runtime, caller, command, form);
    } catch (e) {
      if (!isAppError(e)) log.error('slash command failed', { error: e as Error, command: command.kind, awsRequestId: context.awsRequestId });
      return json(ephemeral(errorText(e, context.awsRequestId)));
    }
  }

  async function run(runtime: SlackRuntime, caller: SlackCaller, command: Exclude<JitCommand, { kind: 'help' }>, form: URLSearchParams) {
    const { service } = runtime;
    switch (command.kind) {
      case 'open-modal': {
        const triggerId = form.get('trigger_id');
        if (!triggerId) return json(ephemeral('Slack sent no trigger_id, so the form cannot open. Use `/jit request …` instead.'));
        const eligible = flattenEligibility(await service.eligibility(caller));
        const metadata = JSON.stringify({ channel: form.get('channel_id') ?? undefined });
        await runtime.client.views.open({ trigger_id: triggerId, view: requestModal(eligible, metadata) as never });
        return ACK;
      }
      case 'request': {
        let target;
        if (command.target.type === 'account' && !/^\d{12}$/.test(command.target.account)) {
          const resolved = resolveRequestTarget(command.target, flattenEligibility(await service.eligibility(caller)));
          if (!resolved.ok) return json(ephemeral(`:warning: ${resolved.error}`));
          target = resolved.target;
        } else {
          target = command.target.type === 'account'
            ? { type: 'account' as const, accountId: command.target.account, permissionSet: command.target.permissionSet }
            : { type: 'group' as const, group: command.target.group };
        }
        const triggerId = form.get('trigger_id');
        const { grant, replayed } = await service.request(
          caller,
          { target, duration: command.duration, justification: command.justification, ...(command.ticket ? { ticket: command.ticket } : {}) },
          // trigger_id is unique per command invocation: a resent command is answered with the first grant.
          triggerId ? `slack:${triggerId}` : undefined,
        );
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
