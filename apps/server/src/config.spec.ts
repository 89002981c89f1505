import { expect } from 'chai';
import { ConfigError, describeDatabase, readConfig } from './config.js';

describe('readConfig', () => {
  it('defaults to 127.0.0.1:8080, ./.blockyard, SQLite, the first-party plugins and info logs', () => {
    expect(readConfig({}, '/srv/app')).to.deep.equal({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/app/.blockyard',
      databaseUrl: null,
      plugins: ['@blockyard/plugin-example', '@blockyard/plugin-http', '@blockyard/plugin-github', '@blockyard/plugin-slack', '@blockyard/plugin-linear', '@blockyard/plugin-notion'],
      logLevel: 'info',
      workerConcurrency: 16,
      providerBaseUrls: {},
      outboundAllowHosts: [],
      encryptionKeys: null,
      env: {},
    });
  });

  it('reads every variable', () => {
    const config = readConfig(
      { PORT: '9000', HOST: '0.0.0.0', BLOCKYARD_DATA_DIR: '/data', BLOCKYARD_DATABASE_URL: 'postgres://u@db:5432/x', BLOCKYARD_PLUGINS: ' a, ./b ,', LOG_LEVEL: 'WARN', BLOCKYARD_WORKER_CONCURRENCY: '3' },
      '/srv',
    );
    const { env: _env, ...rest } = config;
    expect(rest).to.deep.equal({ port: 9000, host: '0.0.0.0', dataDir: '/data', databaseUrl: 'postgres://u@db:5432/x', plugins: ['a', './b'], logLevel: 'warn', workerConcurrency: 3, providerBaseUrls: {}, outboundAllowHosts: [], encryptionKeys: null });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      readConfig({ PORT: '70000', LOG_LEVEL: 'chatty', BLOCKYARD_DATABASE_URL: 'sqlite://x', BLOCKYARD_WORKER_CONCURRENCY: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems).to.have.length(4);
    expect((error as ConfigError).message).to.contain('PORT').and.to.contain('LOG_LEVEL').and.to.contain('BLOCKYARD_DATABASE_URL').and.to.contain('BLOCKYARD_WORKER_CONCURRENCY');
  });

  it('reads provider base URLs and the outbound allowlist', () => {
    const config = readConfig({ BLOCKYARD_PROVIDER_BASE_URLS: 'github=http://127.0.0.1:9000, slack=https://slack.test/api', BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1,10.0.0.0/8' });
    expect(config.providerBaseUrls).to.deep.equal({ github: 'http://127.0.0.1:9000', slack: 'https://slack.test/api' });
    expect(config.outboundAllowHosts).to.deep.equal(['127.0.0.1', '10.0.0.0/8']);
  });

  it('rejects a provider base URL that is not provider=url', () => {
    expect(() => readConfig({ BLOCKYARD_PROVIDER_BASE_URLS: 'github' })).to.throw(ConfigError, /BLOCKYARD_PROVIDER_BASE_URLS/);
  });

  it('accepts an empty plugin list', () => {
    expect(readConfig({ BLOCKYARD_PLUGINS: '' }).plugins).to.deep.equal([]);
  });
});

describe('describeDatabase', () => {
  it('never shows the password of a database URL', () => {
    const config = readConfig({ BLOCKYARD_DATABASE_URL: 'postgres://admin:s3cret@db.internal:6543/prod' });
    expect(describeDatabase(config)).to.equal('postgres db.internal:6543/prod');
  });
});
