/** Where an app asked to hear about one of its executions (the execute request's `webhook_url`). */
export interface ExecutionWebhookTarget {
  readonly executionId: string;
  /** The app whose webhook domains and signing secret apply. */
  readonly clientId: string;
  /** Already checked: https (http only for localhost), its host among the client's webhook domains. */
  readonly webhookUrl: string;
}

/**
 * The webhook targets of executions. The external API sets one before the execution is queued
 * (so its start cannot be missed); outbound webhooks read it when the execution starts and
 * finishes. Bind one under this symbol (a persisted one, so that a worker process finds it);
 * without one, an in-memory map of this process is used.
 */
export interface ExecutionWebhookTargets {
  set(target: ExecutionWebhookTarget): Promise<void>;
  /** Null when the execution has none. */
  get(executionId: string): Promise<ExecutionWebhookTarget | null>;
}
export const ExecutionWebhookTargets = Symbol.for('blockyard/ExecutionWebhookTargets');

/** Targets in a Map of this process (the default; lost on restart; the newest `capacity` kept). */
export class InMemoryExecutionWebhookTargets implements ExecutionWebhookTargets {
  readonly #targets = new Map<string, ExecutionWebhookTarget>();

  constructor(private readonly capacity = 100_000) {}

  async set(target: ExecutionWebhookTarget): Promise<void> {
    this.#targets.delete(target.executionId);
    this.#targets.set(target.executionId, { ...target });
    if (this.#targets.size > this.capacity) this.#targets.delete(this.#targets.keys().next().value!);
  }

  async get(executionId: string): Promise<ExecutionWebhookTarget | null> {
    const target = this.#targets.get(executionId);
    return target ? { ...target } : null;
  }
}
