// Specs are compiled by `tsc -b` beside their sources' dist/ output; `npm test` builds first.
module.exports = {
  spec: [
    'contracts/dist/**/*.spec.js',
    'core/dist/**/*.spec.js',
    'adapters/*/dist/**/*.spec.js',
    'plugins/*/dist/**/*.spec.js',
    'apps/*/dist/**/*.spec.js',
    'clients/*/dist/**/*.spec.js',
    'test/dist/**/*.spec.js',
  ],
  timeout: 30000,
  exit: true,
};
