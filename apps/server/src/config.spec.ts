import { expect } from 'chai';
import { DEFAULT_RATE_LIMIT_POLICY } from '@blockyard/core';
import { ConfigError, describeDatabase, describeQueue, readConfig } from './config.js';

describe('readConfig', () => {
  it('defaults to 127.0.0.1:8080, ./.blockyard, SQLite, the first-party plugins and info logs', () => {
    expect(readConfig({}, '/srv/app')).to.deep.equal({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/app/.blockyard',
      databaseUrl: null,
      databaseSchema: null,
      role: 'all',
      queue: 'memory',
      redisUrl: 'redis://127.0.0.1:6379',
      queueName: 'executions',
      queueMaxAttempts: 5,
      workerVisibilityTimeoutMs: 30_000,
      healthPort: null,
      plugins: ['@blockyard/plugin-example', '@blockyard/plugin-http', '@blockyard/plugin-github', '@blockyard/plugin-slack', '@blockyard/plugin-linear', '@blockyard/plugin-notion'],
      logLevel: 'info',
      workerConcurrency: 16,
      providerBaseUrls: {},
      outboundAllowHosts: [],
      encryptionKeys: null,
      webhookDeliveryKeepDays: 7,
      rateLimits: { enabled: true, store: 'memory', policy: DEFAULT_RATE_LIMIT_POLICY },
      env: {},
    });
  });

  it('reads every variable', () => {
    const config = readConfig(
      { PORT: '9000', HOST: '0.0.0.0', BLOCKYARD_DATA_DIR: '/data', BLOCKYARD_DATABASE_URL: 'postgres://u@db:5432/x', BLOCKYARD_PLUGINS: ' a, ./b ,', LOG_LEVEL: 'WARN', BLOCKYARD_WORKER_CONCURRENCY: '3' },
      '/srv',
    );
    const { env: _env, port, host, dataDir, databaseUrl, plugins, logLevel, workerConcurrency } = config;
    expect({ port, host, dataDir, databaseUrl, plugins, logLevel, workerConcurrency }).to.deep.equal({ port: 9000, host: '0.0.0.0', dataDir: '/data', databaseUrl: 'postgres://u@db:5432/x', plugins: ['a', './b'], logLevel: 'warn', workerConcurrency: 3 });
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

  it('reads BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS, refusing anything but 1 to 3650 days', () => {
    expect(readConfig({ BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS: ' 30 ' }).webhookDeliveryKeepDays).to.equal(30);
    for (const bad of ['0', '3651', '1.5', 'week']) expect(() => readConfig({ BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS: bad }), bad).to.throw(ConfigError, /BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS must be an integer from 1 to 3650/);
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

  describe('queue and role', () => {
    const scaled = { BLOCKYARD_QUEUE: 'bullmq', BLOCKYARD_DATABASE_URL: 'postgres://u@db:5432/x' };

    it('reads the BullMQ queue, the role and their settings', () => {
      const config = readConfig({
        ...scaled,
        BLOCKYARD_ROLE: 'Worker',
        BLOCKYARD_REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
        BLOCKYARD_QUEUE_NAME: 'prod.executions',
        BLOCKYARD_QUEUE_MAX_ATTEMPTS: '3',
        BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS: '1500',
        BLOCKYARD_HEALTH_PORT: '9100',
        BLOCKYARD_DATABASE_SCHEMA: 'tenant_a',
      });
      expect(config).to.include({
        queue: 'bullmq',
        role: 'worker',
        redisUrl: 'rediss://:pw@redis.internal:6380/2',
        queueName: 'prod.executions',
        queueMaxAttempts: 3,
        workerVisibilityTimeoutMs: 1500,
        healthPort: 9100,
        databaseSchema: 'tenant_a',
      });
    });

    for (const role of ['api', 'worker', 'all']) {
      it(`accepts role ${role} with the BullMQ queue`, () => {
        expect(readConfig({ ...scaled, BLOCKYARD_ROLE: role }).role).to.equal(role);
      });
    }

    for (const role of ['api', 'worker']) {
      it(`rejects role ${role} with the memory queue, saying why`, () => {
        expect(() => readConfig({ BLOCKYARD_ROLE: role })).to.throw(ConfigError, new RegExp(`BLOCKYARD_ROLE=${role} needs a queue shared between processes: set BLOCKYARD_QUEUE=bullmq`));
      });
    }

    it('names every bad queue and role variable at once', () => {
      let error: ConfigError | undefined;
      try {
        readConfig({
          BLOCKYARD_QUEUE: 'kafka',
          BLOCKYARD_ROLE: 'both',
          BLOCKYARD_REDIS_URL: 'http://redis:6379',
          BLOCKYARD_QUEUE_NAME: 'no spaces',
          BLOCKYARD_QUEUE_MAX_ATTEMPTS: '0',
          BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS: '5',
        });
      } catch (e) {
        error = e as ConfigError;
      }
      expect(error).to.be.instanceOf(ConfigError);
      for (const name of ['BLOCKYARD_QUEUE must', 'BLOCKYARD_ROLE must', 'BLOCKYARD_REDIS_URL', 'BLOCKYARD_QUEUE_NAME', 'BLOCKYARD_QUEUE_MAX_ATTEMPTS', 'BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS']) {
        expect(error!.message).to.contain(name);
      }
      expect(error!.problems).to.have.length(6);
    });

    it('never repeats the Redis URL, which may hold a password, in its complaint', () => {
      expect(() => readConfig({ BLOCKYARD_REDIS_URL: 'redis://:s3cret@host:6379/x/y' })).to.throw(ConfigError).that.satisfies((e: Error) => !e.message.includes('s3cret'));
    });

    it('takes a database schema for PostgreSQL only', () => {
      expect(() => readConfig({ BLOCKYARD_DATABASE_SCHEMA: 'tenant_a' })).to.throw(ConfigError, /applies to PostgreSQL only/);
      expect(() => readConfig({ BLOCKYARD_DATABASE_URL: 'postgres://u@db/x', BLOCKYARD_DATABASE_SCHEMA: 'Robert"); drop' })).to.throw(ConfigError, /BLOCKYARD_DATABASE_SCHEMA must be/);
    });

    it('takes a health port for role worker only', () => {
      expect(() => readConfig({ ...scaled, BLOCKYARD_ROLE: 'api', BLOCKYARD_HEALTH_PORT: '9100' })).to.throw(ConfigError, /BLOCKYARD_HEALTH_PORT is for BLOCKYARD_ROLE=worker/);
    });
  });
});

describe('describeDatabase', () => {
  it('never shows the password of a database URL', () => {
    const config = readConfig({ BLOCKYARD_DATABASE_URL: 'postgres://admin:s3cret@db.internal:6543/prod' });
    expect(describeDatabase(config)).to.equal('postgres db.internal:6543/prod');
  });

  it('names the schema when there is one', () => {
    const config = readConfig({ BLOCKYARD_DATABASE_URL: 'postgres://db.internal/prod', BLOCKYARD_DATABASE_SCHEMA: 'tenant_a' });
    expect(describeDatabase(config)).to.equal('postgres db.internal:5432/prod schema tenant_a');
  });
});

describe('describeQueue', () => {
  it('says memory for the memory queue', () => {
    expect(describeQueue(readConfig({}))).to.equal('memory');
  });

  it('names Redis and the queue, never the password of the Redis URL', () => {
    const config = readConfig({ BLOCKYARD_QUEUE: 'bullmq', BLOCKYARD_REDIS_URL: 'redis://:s3cret@redis.internal:6380/1', BLOCKYARD_QUEUE_NAME: 'jobs' });
    expect(describeQueue(config)).to.equal('bullmq redis.internal:6380/1 queue jobs');
  });
});
