/** Dependency rules of the hexagon, checked on every `npm test`. */
const IO_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|dns|dns/promises|child_process|cluster|worker_threads|readline|repl|vm|inspector)$';

module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'core/ is the domain: it imports no adapter, app or plugin.',
      from: { path: '^core/' },
      to: { path: '^(adapters|apps|plugins)/|node_modules/@blockyard/(?!contracts|core)' },
    },
    {
      name: 'core-does-no-io',
      severity: 'error',
      comment: 'core/ does no I/O: no file system, network or process modules.',
      from: { path: '^core/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'core-no-io-libraries',
      severity: 'error',
      comment: 'core/ uses no I/O library (HTTP, database, queue, logging back ends).',
      from: { path: '^core/' },
      to: { path: 'node_modules/(koa|@koa|knex|sqlite3|pg|pino|bullmq|ioredis|undici)/' },
    },
    {
      name: 'contracts-depend-on-nothing-of-ours',
      severity: 'error',
      from: { path: '^contracts/' },
      to: { path: '^(core|adapters|apps|plugins)/|node_modules/@blockyard/' },
    },
    {
      name: 'adapters-never-import-apps',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^apps/|node_modules/@blockyard/(server|cli)' },
    },
    {
      name: 'adapters-do-not-import-each-other',
      severity: 'error',
      comment: 'Each adapter stands alone behind its port; apps compose them.',
      from: { path: '^adapters/([^/]+)/' },
      to: { path: '^adapters/([^/]+)/|node_modules/@blockyard/(storage-|queue-|http-|plugin-loader)', pathNot: '^adapters/$1/|node_modules/@blockyard/$1' },
    },
    {
      name: 'plugins-use-the-sdk-only',
      severity: 'error',
      comment: 'A plugin depends on @blockyard/plugin-sdk, never on core internals, adapters or apps.',
      from: { path: '^plugins/(?!sdk/)' },
      to: { path: '^(core|adapters|apps)/|node_modules/@blockyard/(?!plugin-sdk)' },
    },
    {
      name: 'clients-stand-alone',
      severity: 'error',
      comment: 'A client package talks HTTP only: its types are generated from the OpenAPI document at build time, it imports nothing of ours.',
      from: { path: '^clients/' },
      to: { path: '^(contracts|core|adapters|apps|plugins)/|node_modules/@blockyard/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.json'] },
    combinedDependencies: false,
    preserveSymlinks: false,
  },
};
