import { Container } from 'inversify';
import {
  BlockRegistry,
  coreModule,
  CredentialService,
  ExecutionLifecycleListener,
  GrantRepository,
  OAuthClientRepository,
  ProviderRegistry,
  UserService,
  type Block,
  type ResolvedCredential,
} from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';
import { AesGcmSecretCipher, KeyRing, secretCipherModule } from '@blockyard/secret-cipher';

/** The API key the Acme credential holds; a block that sees it used the user's credential. */
export const ACME_KEY = 'acme-secret-key';

/**
 * What the in-process grant specs start from: core on the memory adapters, an `acme` provider
 * with `scopes`, `blocks` registered, Alice with an Acme API key credential, and an OAuth app
 * of hers (`clientId`). Every grant read is noted in `grantReads`; `listeners` are bound
 * before anything is resolved.
 */
export async function composeAppWithCredential(options: { blocks: Block[]; scopes: string[]; clientId: string; clientName: string; listeners?: ExecutionLifecycleListener[] }) {
  const container = new Container();
  container.load(
    coreModule({ engine: { cancelGraceMs: 50 }, worker: { pollMs: 10 } }),
    memoryStorageModule(),
    memoryQueueModule(),
    secretCipherModule(new AesGcmSecretCipher(KeyRing.of([{ id: 'k1', key: Buffer.alloc(32, 7) }]))),
  );
  for (const listener of options.listeners ?? []) container.bind(ExecutionLifecycleListener).toConstantValue(listener);
  const grantRepo = container.get<GrantRepository>(GrantRepository);
  const grantReads: string[] = [];
  const get = grantRepo.get.bind(grantRepo);
  grantRepo.get = async (id) => {
    grantReads.push(id);
    return get(id);
  };
  container.get<BlockRegistry>(BlockRegistry).registerAll(options.blocks, 'spec');
  container.get(ProviderRegistry).registerAll(
    [{ name: 'acme', display_name: 'Acme', auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }], integration_scopes: Object.fromEntries(options.scopes.map((s) => [s, []])) }],
    'spec',
  );
  const alice = await container.get(UserService).createUser({ email: 'alice@example.com', name: 'Alice' });
  const credential = await container.get(CredentialService).createCredential(alice.id, { provider: 'acme', kind: 'api_key', scopes: options.scopes, secret: { api_key: ACME_KEY } });
  const { clientId } = options;
  await container.get<OAuthClientRepository>(OAuthClientRepository).create({
    id: clientId,
    userId: alice.id,
    name: options.clientName,
    description: '',
    type: 'confidential',
    secretHash: 'h',
    redirectUris: [`https://${clientId.replace(/_/g, '-')}.example.com/cb`],
    webhookDomains: [],
    webhookSecret: { keyId: 'k', nonce: 'n', ciphertext: 'c', tag: 't' },
    createdAt: new Date(0),
    updatedAt: new Date(0),
    disabledAt: null,
  });
  return { container, grantRepo, grantReads, alice, credential, clientId, actor: { userId: alice.id, clientId } };
}

/**
 * An Acme block taking a string `q` and a credential with `scopes`: it answers `<verb> <q>` and
 * notes in `seen` the credential each run was given.
 */
export function acmeBlock(id: string, verb: string, scopes: string[], seen: Array<ResolvedCredential | null>): Block {
  return {
    definition: {
      id,
      name: `Acme ${verb}`,
      description: '',
      categories: [],
      input_schema: { type: 'object', required: ['q'], properties: { q: { type: 'string' } } },
      output_schema: { type: 'object', properties: { text: { type: 'string' } } },
      credentials: { provider: 'acme', kinds: ['api_key'], scopes },
    },
    handler: async ({ q }, ctx) => {
      seen.push(ctx.credentials);
      return { data: { text: `${verb} ${q as string}` } };
    },
  };
}
