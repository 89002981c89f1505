import type { ExecutionStatus } from '@blockyard/contracts';
import { ConflictError } from '../errors/domain.errors.js';

export type { ExecutionStatus };

/** A run of a block or an agent, from the moment it is accepted until it ends. Immutable: changes make a new value. */
export interface Execution {
  readonly id: string;
  readonly userId: string;
  /** The block it runs; '' for an agent execution. */
  readonly blockId: string;
  /** The agent and version it runs; absent (or null) for a block execution. */
  readonly agent?: ExecutionAgent | null;
  /**
   * The credential grants an app's execution (the external API) goes through; absent for the
   * user's own executions. Before a node run resolves a credential, the grants on that
   * credential are read again: a revoked one fails the run.
   */
  readonly grantIds?: readonly string[];
  readonly status: ExecutionStatus;
  readonly inputs: Record<string, unknown>;
  /** Output name -> the values produced for it, in order. */
  readonly outputs: Record<string, unknown[]>;
  readonly error: string | null;
  readonly costUsd: number;
  /** How many times a worker has started it (more than one after a crash or a lost lease). */
  readonly attempts: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
}

export interface ExecutionAgent {
  readonly id: string;
  readonly version: number;
}

export const FINISHED_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled'];

const ALLOWED: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  queued: ['running', 'cancelled'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isFinished(status: ExecutionStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function newExecution(fields: {
  id: string;
  userId: string;
  blockId: string;
  inputs: Record<string, unknown>;
  now: Date;
  agent?: ExecutionAgent;
  /**
   * An app's execution: the grants it goes through (possibly none). Present, even empty, it
   * marks the execution as an app's, whose every credential must come through a live grant.
   */
  grantIds?: readonly string[];
}): Execution {
  return {
    id: fields.id,
    userId: fields.userId,
    blockId: fields.blockId,
    ...(fields.agent ? { agent: fields.agent } : {}),
    ...(fields.grantIds ? { grantIds: [...fields.grantIds] } : {}),
    status: 'queued',
    inputs: fields.inputs,
    outputs: {},
    error: null,
    costUsd: 0,
    attempts: 0,
    createdAt: fields.now,
    startedAt: null,
    completedAt: null,
  };
}

/** Marks a worker's start (or restart after a lost attempt). */
export function start(execution: Execution, now: Date): Execution {
  if (execution.status === 'running') return { ...execution, attempts: execution.attempts + 1 };
  assertTransition(execution, 'running');
  return { ...execution, status: 'running', attempts: execution.attempts + 1, startedAt: now };
}

export function finish(
  execution: Execution,
  to: 'completed' | 'failed' | 'cancelled',
  result: { outputs?: Record<string, unknown[]>; error?: string | null; costUsd?: number },
  now: Date,
): Execution {
  assertTransition(execution, to);
  return {
    ...execution,
    status: to,
    outputs: result.outputs ?? execution.outputs,
    error: result.error ?? (to === 'cancelled' ? 'cancelled' : null),
    costUsd: result.costUsd ?? execution.costUsd,
    completedAt: now,
  };
}

function assertTransition(execution: Execution, to: ExecutionStatus): void {
  if (!canTransition(execution.status, to)) {
    throw new ConflictError(`execution ${execution.id} is ${execution.status} and cannot become ${to}`);
  }
}
