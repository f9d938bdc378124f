/**
 * POST /slack/interactions: modal submissions and buttons. The payload is read as one
 * of the Slack shapes the app accepts and its values as the HTTP API's request bodies
 * (lib/slack/inputs.ts); anything else is acknowledged and ignored, a malformed
 * submission of one of our modals is refused on the modal. Each payload does one
 * service call and acknowledges. view_submission answers in the HTTP response
 * (response_action); a refused button click is answered with an ephemeral post to the
 * click's response_url, the one way Slack shows a block_actions outcome.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describeTarget } from '../domain/grant.ts';
import { ValidationError } from '../errors.ts';
import { logger as defaultLogger } from '../logger.ts';
import { ACK, defaultPostToResponseUrl, json, slackEndpoint, type SlackEndpointDeps } from './endpoint.ts';
import { errorText, isAppError } from './error-text.ts';
import {
  buttonInput,
  decisionFromView,
  fieldErrorsText,
  grantRequestFromView,
  MALFORMED_VIEW_MESSAGE,
  MODAL_FIRST_BLOCK,
  parseInteraction,
  requestBlockOf,
  slackIdempotencyKey,
  type BlockActionsPayload,
  type ViewSubmissionPayload,
} from './inputs.ts';
import { CALLBACK, decisionModal, ephemeral, humanDuration, REQUEST_FIELDS, requestSubmittedView, type DecisionMetadata } from './views.ts';

export function createSlackInteractionsHandler(deps: SlackEndpointDeps) {
  const log = deps.logger ?? defaultLogger;
  const postToResponseUrl = deps.postToResponseUrl ?? defaultPostToResponseUrl;

  async function handle(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const ref = context.awsRequestId;
    const interaction = parseInteraction(event.body ?? '');
    switch (interaction.kind) {
      case 'block_actions':
        return blockAction(interaction.payload, ref);
      case 'view_submission': {
        const { payload } = interaction;
        if (payload.view.callback_id === CALLBACK.request) return submitRequest(payload, ref);
        if (payload.view.callback_id === CALLBACK.decision) return submitDecision(payload, ref);
        return ACK;
      }
      case 'malformed_view':
        log.warn('slack modal submission not understood', { reason: interaction.reason, awsRequestId: ref });
        return json({ response_action: 'errors', errors: { [MODAL_FIRST_BLOCK[interaction.callbackId]]: MALFORMED_VIEW_MESSAGE } });
      case 'unsupported':
        // view_closed, shortcuts, anything else: acknowledged, nothing done.
        log.info('unsupported slack interaction', { reason: interaction.reason, awsRequestId: ref });
        return ACK;
    }
  }

  async function tellUser(payload: BlockActionsPayload, text: string): Promise<void> {
    if (!payload.response_url) return;
    try {
      await postToResponseUrl(payload.response_url, { ...ephemeral(text), replace_original: false });
    } catch (e) {
      log.warn('could not post to response_url', { error: e as Error });
    }
  }

  async function blockAction(payload: BlockActionsPayload, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    const action = payload.actions[0]!;
    const input = buttonInput(action);
    if (!input) {
      log.info('unsupported slack action', { action: action.action_id.slice(0, 64), awsRequestId: ref });
      return ACK;
    }
    if (!input.ok) {
      await tellUser(payload, `:warning: That button is not one this app can act on. ${fieldErrorsText(input.errors)}`);
      return ACK;
    }
    const button = input.value;
    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(payload.user.id);
      switch (button.action) {
        case 'approve':
          await runtime.service.approve(caller, button.grantId);
          return ACK;
        case 'approveWithComment':
        case 'deny': {
          if (!payload.trigger_id) return ACK;
          const grant = await runtime.service.get(caller, button.grantId);
          const meta: DecisionMetadata = {
            grantId: grant.id,
            decision: button.action === 'deny' ? 'deny' : 'approve',
            ...(payload.channel?.id ? { channel: payload.channel.id } : {}),
            ...(payload.response_url ? { responseUrl: payload.response_url } : {}),
          };
          const summary = `${grant.principal.userName} asks for ${describeTarget(grant.target)} for ${humanDuration(grant.duration)}: ${grant.justification}`;
          await runtime.client.views.open({ trigger_id: payload.trigger_id, view: decisionModal(meta, summary) as never });
          return ACK;
        }
        case 'revoke': {
          const grant = await runtime.service.revoke(caller, button.grantId, `ended early from Slack by ${caller.email}`);
          await tellUser(payload, `Ending access \`${grant.id}\` (${describeTarget(grant.target)}).`);
          return ACK;
        }
        case 'extend': {
          const grant = await runtime.service.extend(caller, button.grantId, button.duration);
          await tellUser(payload, `Extended \`${grant.id}\` by ${humanDuration(button.duration)}${grant.expiresAt ? `, now until ${grant.expiresAt}` : ''}.`);
          return ACK;
        }
      }
    } catch (e) {
      if (!isAppError(e)) log.error('slack action failed', { error: e as Error, action: action.action_id, awsRequestId: ref });
      await tellUser(payload, errorText(e, ref));
      return ACK;
    }
  }

  async function submitRequest(payload: ViewSubmissionPayload, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    // The modal's state as the body POST /grants would take, checked by its schema.
    const body = grantRequestFromView(payload.view.state.values);
    if (!body.ok) return json({ response_action: 'errors', errors: body.errors });
    // A double-clicked submit carries the same view id: the second gets the first grant.
    const key = slackIdempotencyKey('slack:view:', payload.view.id);
    if (!key.ok) return json({ response_action: 'errors', errors: { [REQUEST_FIELDS.target]: MALFORMED_VIEW_MESSAGE } });
    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(payload.user.id);
      const { grant, replayed } = await runtime.service.request(caller, body.value, key.value);
      return json({ response_action: 'update', view: requestSubmittedView(grant, replayed) });
    } catch (e) {
      if (!isAppError(e)) log.error('slack request submission failed', { error: e as Error, awsRequestId: ref });
      return json({ response_action: 'errors', errors: { [blockForError(e)]: errorText(e, ref).slice(0, 300) } });
    }
  }

  async function submitDecision(payload: ViewSubmissionPayload, ref: string): Promise<APIGatewayProxyStructuredResultV2> {
    const decision = decisionFromView(payload.view);
    if (!decision.ok) return json({ response_action: 'errors', errors: decision.errors });
    const { meta, comment } = decision.value;
    try {
      const runtime = await deps.runtime();
      const caller = await runtime.identity.callerFor(payload.user.id);
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
  if (e instanceof ValidationError && e.fields?.length) return requestBlockOf(e.fields[0]!.field.replace(/^body\./, ''));
  const text = (e instanceof Error ? e.message : '').toLowerCase();
  if (/duration|startsat/.test(text)) return REQUEST_FIELDS.duration;
  if (/justification/.test(text)) return REQUEST_FIELDS.justification;
  if (/ticket/.test(text)) return REQUEST_FIELDS.ticket;
  return REQUEST_FIELDS.target;
}
