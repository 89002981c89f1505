import { expect } from 'chai';
import { generateSigningKey } from '@blockyard/oauth-server';
import { ConfigError, readConfig } from './config.js';
import { oauthServerOptionsFromConfig } from './oauth-server-options.js';

describe('oauthServerOptionsFromConfig', () => {
  it('defaults to the key file and the built-in lifetimes', () => {
    expect(oauthServerOptionsFromConfig(readConfig({}, '/srv'))).to.deep.equal({
      signingKeys: undefined,
      ttl: { authorizationCodeSeconds: undefined, accessTokenSeconds: undefined, refreshTokenSeconds: undefined },
    });
  });

  it('reads the lifetimes and a JWKS of private keys', () => {
    const jwks = JSON.stringify({ keys: [generateSigningKey()] });
    const options = oauthServerOptionsFromConfig(
      readConfig({ BLOCKYARD_OAUTH_CODE_TTL_SECONDS: '30', BLOCKYARD_OAUTH_ACCESS_TOKEN_TTL_SECONDS: '600', BLOCKYARD_OAUTH_REFRESH_TOKEN_TTL_SECONDS: '86400', BLOCKYARD_OAUTH_SIGNING_KEYS: jwks }, '/srv'),
    );
    expect(options).to.deep.equal({ signingKeys: jwks, ttl: { authorizationCodeSeconds: 30, accessTokenSeconds: 600, refreshTokenSeconds: 86400 } });
  });

  it('names every bad variable at once, and never the key material', () => {
    const { d: _d, ...publicKey } = generateSigningKey();
    let thrown: unknown;
    try {
      oauthServerOptionsFromConfig(readConfig({ BLOCKYARD_OAUTH_CODE_TTL_SECONDS: '601', BLOCKYARD_OAUTH_ACCESS_TOKEN_TTL_SECONDS: 'soon', BLOCKYARD_OAUTH_SIGNING_KEYS: JSON.stringify({ keys: [publicKey] }) }, '/srv'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).to.be.instanceOf(ConfigError);
    const { problems } = thrown as ConfigError;
    expect(problems).to.have.length(3);
    expect(problems[0]).to.contain('BLOCKYARD_OAUTH_CODE_TTL_SECONDS must be an integer from 1 to 600');
    expect(problems[1]).to.contain('BLOCKYARD_OAUTH_ACCESS_TOKEN_TTL_SECONDS');
    expect(problems[2]).to.contain('BLOCKYARD_OAUTH_SIGNING_KEYS').and.contain('no private part').and.not.contain(String(publicKey.n));
  });
});
