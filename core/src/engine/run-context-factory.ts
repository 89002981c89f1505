import type { ResolvedCredential } from '../block/block.js';
import type { RegisteredBlock } from '../block/block-registry.port.js';
import type { CredentialResolver } from '../credential/credential-resolver.port.js';
import type { ContextFetch, OutboundHttp } from '../outbound/outbound-http.port.js';
import { credentialInjection } from '../provider/credential-injection.js';
import type { ProviderRegistry, RegisteredProvider } from '../provider/provider-registry.js';

/** What a run's context gets besides its inputs: its credential and its fetch. */
export interface RunContextParts {
  credentials: ResolvedCredential | null;
  createFetch?: (signal: AbortSignal) => ContextFetch;
}

/**
 * Resolves a block's credential requirement for a run and binds context.fetch to it: the
 * provider's base URL and auth scheme, the run's abort signal.
 */
export class RunContextFactory {
  constructor(
    private readonly deps: {
      providers: ProviderRegistry;
      credentials: CredentialResolver;
      /** Without it (an embedding that needs no HTTP), context.fetch is unavailable. */
      outbound?: OutboundHttp;
    },
  ) {}

  /** Throws a DomainError when the block needs a credential the caller cannot use. */
  async forRun(block: RegisteredBlock, userId: string, credentialId?: string): Promise<RunContextParts> {
    const requirement = block.definition.credentials;
    const provider = this.providerOf(block);
    const credentials = requirement ? await this.deps.credentials.resolve({ userId, requirement, credentialId }) : null;
    const { outbound } = this.deps;
    if (!outbound) return { credentials };
    const credential = credentials ? credentialInjection(provider?.definition, credentials) : undefined;
    const baseUrl = provider?.baseUrl;
    return { credentials, createFetch: (signal) => outbound.createFetch({ credential, baseUrl, signal }) };
  }

  /** The provider a block talks to: its credential's, else the one its id starts with. */
  providerOf(block: RegisteredBlock): RegisteredProvider | undefined {
    const name = block.definition.credentials?.provider ?? block.definition.id.split('.')[0]!;
    return this.deps.providers.get(name);
  }
}
