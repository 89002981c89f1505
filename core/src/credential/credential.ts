import type { CredentialKind } from '@blockyard/contracts';
import type { EncryptedSecret } from './secret-cipher.port.js';

export type { CredentialKind };

export type CredentialStatus = 'active' | 'needs_reauth' | 'revoked';

/** A user's secret for a provider, as stored: metadata in the clear, the secret sealed. */
export interface Credential {
  readonly id: string;
  readonly userId: string;
  readonly provider: string;
  readonly kind: CredentialKind;
  readonly title: string;
  /** Integration scopes it grants (e.g. github:repo.read). */
  readonly scopes: readonly string[];
  readonly status: CredentialStatus;
  /** When the secret stops working (oauth2 access tokens); null when it does not expire. */
  readonly expiresAt: Date | null;
  /** The sealed secret: JSON of the kind's secret fields (api_key, access/refresh token, ...). */
  readonly secret: EncryptedSecret;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
