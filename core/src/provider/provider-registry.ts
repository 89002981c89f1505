import type { ProviderDefinition } from '@blockyard/contracts';
import { ConflictError } from '../errors/domain.errors.js';
import type { WebhookManager } from './webhook-manager.js';

export type { ProviderDefinition };

/** A provider as a loaded plugin declared it. */
export interface RegisteredProvider {
  readonly definition: ProviderDefinition;
  /** The plugin that declared it. */
  readonly source: string;
  readonly webhooks: WebhookManager | null;
  /** Where its API lives for this server: the declared base_url or the configured override. */
  readonly baseUrl: string | undefined;
}

/** The providers of the loaded plugins. */
export class ProviderRegistry {
  readonly #providers = new Map<string, RegisteredProvider>();
  readonly #baseUrlOverride: (provider: string) => string | undefined;

  /** `baseUrlOverrides`: provider name -> base URL (GitHub Enterprise, a test stand-in ...). */
  constructor(baseUrlOverrides: Readonly<Record<string, string>> | ((provider: string) => string | undefined) = {}) {
    const overrides = typeof baseUrlOverrides === 'function' ? null : new Map(Object.entries(baseUrlOverrides));
    this.#baseUrlOverride = typeof baseUrlOverrides === 'function' ? baseUrlOverrides : (name) => overrides!.get(name);
  }

  /** Adds providers all or none; a name another plugin declared is a ConflictError. */
  registerAll(providers: readonly ProviderDefinition[], source: string, webhooks: Readonly<Record<string, WebhookManager>> = {}): RegisteredProvider[] {
    for (const p of providers) {
      const existing = this.#providers.get(p.name);
      if (existing) throw new ConflictError(`provider ${p.name} is already provided by ${existing.source}`);
    }
    const registered = providers.map((definition) => ({
      definition,
      source,
      webhooks: webhooks[definition.name] ?? null,
      baseUrl: this.#baseUrlOverride(definition.name) ?? definition.base_url,
    }));
    for (const r of registered) this.#providers.set(r.definition.name, r);
    return registered;
  }

  get(name: string): RegisteredProvider | undefined {
    return this.#providers.get(name);
  }

  list(): readonly RegisteredProvider[] {
    return [...this.#providers.values()];
  }
}
