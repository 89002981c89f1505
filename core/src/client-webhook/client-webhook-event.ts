import type { Execution } from '../execution/execution.js';
import type { ClientWebhookEvent } from './client-webhook-delivery.js';

/** An event as it goes out: `{ event, timestamp, data }` (the external API guide's body). */
export interface ClientWebhookEventBody {
  readonly event: ClientWebhookEvent;
  /** When the event happened (ISO 8601, UTC, milliseconds), not when it is sent. */
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/** A revoked grant, as announced to its client. */
export interface RevokedGrantEvent {
  readonly grantId: string;
  readonly clientId: string;
  readonly provider: string;
  readonly credentialId: string | null;
  readonly revokedAt: Date;
}

/**
 * The body text of an event: `JSON.stringify` of `{ event, timestamp, data }`, compact. A
 * receiver that parses it and serializes it again with `JSON.stringify` (as the guide's
 * verification example does with `req.body`) gets these very bytes back, because the text came
 * from `JSON.stringify` of plain JSON values in the first place: so both the raw-bytes check and
 * the guide's re-serialized check pass.
 */
export function serializeClientWebhookEvent(body: ClientWebhookEventBody): string {
  return JSON.stringify({ event: body.event, timestamp: body.timestamp, data: body.data });
}

/** execution.started: the execution is running. */
export function executionStartedEvent(execution: Execution, at: Date): ClientWebhookEventBody {
  const timestamp = (execution.startedAt ?? at).toISOString();
  return {
    event: 'execution.started',
    timestamp,
    data: { execution_id: execution.id, agent_id: agentIdOf(execution), status: 'running', started_at: timestamp },
  };
}

/**
 * execution.completed (with the outputs, output name -> values as GET /executions/:id has them)
 * or execution.failed (with the error). A cancelled execution is announced as execution.failed
 * with `status: "cancelled"` (as GET /executions/:id shows it), its error and `cancelled: true`:
 * the guide knows four events, and its clients treat every end other than completed as a failure.
 */
export function executionFinishedEvent(execution: Execution, at: Date): ClientWebhookEventBody {
  const completedAt = (execution.completedAt ?? at).toISOString();
  const base = { execution_id: execution.id, agent_id: agentIdOf(execution), started_at: execution.startedAt?.toISOString() ?? null, completed_at: completedAt };
  if (execution.status === 'completed') {
    return { event: 'execution.completed', timestamp: completedAt, data: { ...base, status: 'completed', outputs: execution.outputs } };
  }
  const cancelled = execution.status === 'cancelled';
  return {
    event: 'execution.failed',
    timestamp: completedAt,
    data: { ...base, status: execution.status, error: execution.error ?? execution.status, ...(cancelled ? { cancelled: true } : {}) },
  };
}

/** grant.revoked: the client may no longer use the grant. */
export function grantRevokedEvent(grant: RevokedGrantEvent): ClientWebhookEventBody {
  const timestamp = grant.revokedAt.toISOString();
  return {
    event: 'grant.revoked',
    timestamp,
    data: { grant_id: grant.grantId, provider: grant.provider, credential_id: grant.credentialId, revoked_at: timestamp },
  };
}

function agentIdOf(execution: Execution): string | null {
  return execution.agent?.id ?? null;
}
