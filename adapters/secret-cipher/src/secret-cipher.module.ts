import { ContainerModule } from 'inversify';
import { SecretCipher } from '@blockyard/core';

/** Binds the SecretCipher port to the given cipher. */
export function secretCipherModule(cipher: SecretCipher): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<SecretCipher>(SecretCipher).toConstantValue(cipher);
  });
}
