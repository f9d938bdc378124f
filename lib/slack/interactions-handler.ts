/**
 * POST /slack/interactions: modal submissions and buttons. Each payload does one
 * service call and acknowledges. view_submission answers in the HTTP response
 * (response_action); a refused button click is answered with an ephemeral post
 * to the click's response_url, the one way Slack shows a block_actions outcome.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describeTarget } from '../domain/grant.ts';
import { ValidationError } from '../errors.ts';
import { logger as defaultLogger } from '../logger.ts';
import { parseDurationInput } from './command-parser.ts';
import { ACK, defaultPostToResponseUrl, json, slackEndpoint, type SlackEndpointDeps, type SlackRuntime } from './endpoint.ts';
import { errorText, isAppError } from './error-text.ts';
import {
  ACTION,
  CALLBACK,
  decisionModal,
  decodeTargetOption,
  ephemeral,
  humanDuration,
  REQUEST_FIELDS,
  requestSubmittedView,
  type DecisionMetadata,
} from './views.ts';

interface StateValue {
  type?: string;
  value?: string | null;
  selected_option?: { value: string } | null;
}

interface InteractionPayload {
  type: string;
  user?: { id: string };
  trigger_id?: string;
  response_url?: string;
  channel?: { id: string };
  actions?: { action_id: string; value?: string; block_id?: string }[];
  view?: {
    id: string;
    callback_id?: string;
    private_metadata?: string;
    state?: { values: Record<string, Record<string, StateValue>> };
  };
}

export function createSlackInteractionsHandler(deps: SlackEndpointDeps) {
  const log = deps.logger ?? defaultLogger;
  const postToResponseUrl = deps.postToResponseUrl ?? defaultPostToResponseUrl;

  async function handle(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const raw = new URLSearchParams(event.body ?? '').get('payload');
    let payload: InteractionPayload;
    try {
      payload = JSON.parse(raw ?? '') as InteractionPayload;
    } catch {
      return { statusCode: 400, body: 'payload is not JSON' };
    }
    const slackUserId = payload.user?.id;
    if (!slackUserId) return { statusCode: 400, body: 'payload has no user' };
    const ref = context.awsRequestId;
    switch (payload.type) {
      case 'block_actions':
        return blockAction(payload, slackUserId, ref);
      case 'view_submission':
        if (payload.view?.callback_id === CALLBACK.request) return submitRequest(payload, slackUserId, ref);
        if (payload.view?.callback_id === CALLBACK.decision) return submitDecision(payload, slackUserId, ref);
        return ACK;
      default:
        // view_closed, shortcuts we do not offer, …: acknowledge and ignore.
        return ACK;
    }
  }

  async function tellUser(payload: InteractionPayload, text: string): Promise<void> {
    if (!payload.response_url) return;
    try {
      await postToResponseUrl(payload.response_url, { ...ephemeral(text), replace_original: false });
    } catch (e) {
      log.warn('could not post to response_url', { error: e as Error });
    }
  }

  async function blockAction(payload: InteractionPayload, slackUserId: string, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    const action = payload.actions?.[0];
    if (!action?.value) return ACK;
    let runtime: SlackRuntime;
    try {
      runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(slackUserId);
      switch (action.action_id) {
        case ACTION.approve:
          await runtime.service.approve(caller, action.value);
          return ACK;
        case ACTION.approveWithComment:
        case ACTION.deny: {
          if (!payload.trigger_id) return ACK;
          const grant = await runtime.service.get(caller, action.value);
          const meta: DecisionMetadata = {
            grantId: grant.id,
            decision: action.action_id === ACTION.deny ? 'deny' : 'approve',
            ...(payload.channel?.id ? { channel: payload.channel.id } : {}),
            ...(payload.response_url ? { responseUrl: payload.response_url } : {}),
          };
          const summary = `${grant.principal.userName} asks for ${describeTarget(grant.target)} for ${humanDuration(grant.duration)}: ${grant.justification}`;
          await runtime.client.views.open({ trigger_id: payload.trigger_id, view: decisionModal(meta, summary) as never });
          return ACK;
        }
        case ACTION.revoke: {
          const grant = await runtime.service.revoke(caller, action.value, `ended early from Slack by ${caller.email}`);
          await tellUser(payload, `Ending access \`${grant.id}\` (${describeTarget(grant.target)}).`);
          return ACK;
        }
        case ACTION.extend: {
          const [grantId, duration] = action.value.split('|');
          if (!grantId || !duration) return ACK;
          const grant = await runtime.service.extend(caller, grantId, duration);
          await tellUser(payload, `Extended \`${grant.id}\` by ${humanDuration(duration)}${grant.expiresAt ? `, now until ${grant.expiresAt}` : ''}.`);
          return ACK;
        }
        default:
          return ACK;
      }
    } catch (e) {
      if (!isAppError(e)) log.error('slack action failed', { error: e as Error, action: action.action_id, awsRequestId: ref });
      await tellUser(payload, errorText(e, ref));
      return ACK;
    }
  }

  async function submitRequest(payload: InteractionPayload, slackUserId: string, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    const values = payload.view?.state?.values ?? {};
    const field = (id: string) => values[id]?.[id];
    const selected = field(REQUEST_FIELDS.target)?.selected_option?.value;
    const target = selected ? decodeTargetOption(selected) : undefined;
    const durationText = field(REQUEST_FIELDS.duration)?.value?.trim() ?? '';
    const duration = parseDurationInput(durationText);
    const justification = field(REQUEST_FIELDS.justification)?.value?.trim() ?? '';
    const ticket = field(REQUEST_FIELDS.ticket)?.value?.trim();
    const errors: Record<string, string> = {};
    if (!target) errors[REQUEST_FIELDS.target] = 'Choose what you need access to.';
    if (!duration) errors[REQUEST_FIELDS.duration] = `“${durationText}” is not a duration; use e.g. 30m, 2h or 1d.`;
    if (!justification) errors[REQUEST_FIELDS.justification] = 'Say why you need access.';
    if (Object.keys(errors).length || !target || !duration) return json({ response_action: 'errors', errors });
    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(slackUserId);
      const { grant, replayed } = await runtime.service.request(
        caller,
        { target, duration, justification, ...(ticket ? { ticket } : {}) },
        // A double-clicked submit carries the same view id: the second gets the first grant.
        payload.view?.id ? `slack:view:${payload.view.id}` : undefined,
      );
      return json({ response_action: 'update', view: requestSubmittedView(grant, replayed) });
    } catch (e) {
      if (!isAppError(e)) log.error('slack request submission failed', { error: e as Error, awsRequestId: ref });
      return json({ response_action: 'errors', errors: { [blockForError(e)]: errorText(e, ref).slice(0, 300) } });
    }
  }

  async function submitDecision(payload: InteractionPayload, slackUserId: string, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    let meta: DecisionMetadata;
    try {
      meta = JSON.parse(payload.view?.private_metadata ?? '') as DecisionMetadata;
    } catch {
      return ACK;
    }
    const comment = payload.view?.state?.values.comment?.comment?.value?.trim() || undefined;
    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(slackUserId);
      if (meta.decision === 'approve') await runtime.service.approve(caller, meta.grantId, comment);
      else await runtime.service.deny(caller, meta.grantId, comment);
      return json({ response_action: 'clear' });
    } catch (e) {
      if (!isAppError(e)) log.error('slack decision failed', { error: e as Error, awsRequestId: ref });
      return json({ response_action: 'errors', errors: { comment: errorText(e, ref).slice(0, 300) } });
    }
  }

  return slackEndpoint(deps, handle);
}

/** Shows a service refusal next to the modal field it concerns. */
function blockForError(e: unknown): string {
  const text = `${e instanceof Error ? e.message : ''} ${e instanceof ValidationError ? (e.fields ?? []).map((f) => f.field).join(' ') : ''}`.toLowerCase();
  if (/duration|startsat/.test(text)) return REQUEST_FIELDS.duration;
  if (/justification/.test(text)) return REQUEST_FIELDS.justification;
  if (/ticket/.test(text)) return REQUEST_FIELDS.ticket;
  return REQUEST_FIELDS.target;
}
