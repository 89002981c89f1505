import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { API_ROUTES, type ApiRoute } from './api-routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { allSchemas } from './generated/schemas.js';

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

/** Every scope the catalogue names, described by itself. */
const scopes = Object.fromEntries(API_ROUTES.flatMap((r) => r.scopes ?? []).map((s) => [s, `may ${s}`]));

const routeFixture: ApiRoute = {
  method: 'post',
  path: '/api/v1/things/{id}/run',
  operationId: 'runThing',
  tag: 'Blocks',
  summary: 'Run a thing',
  auth: 'api',
  scopes: ['EXECUTE_BLOCK'],
  pathParams: { id: 'The thing.' },
  query: [{ name: 'wait', description: 'Seconds.', schema: { type: 'number' } }],
  body: { schema: 'execute-block-request.schema.json' },
  responses: { 202: { schema: 'execute-block-accepted.schema.json', headers: { Location: 'The execution.' } } },
  errors: { 404: 'No such thing.' },
};

const operationOf = (doc: ReturnType<typeof buildOpenApiDocument>, path: string, method: string) => (doc.paths[path] as Record<string, any>)[method];

describe('buildOpenApiDocument', () => {
  it('is deterministic', () => {
    expect(JSON.stringify(buildOpenApiDocument({ scopes }))).to.equal(JSON.stringify(buildOpenApiDocument({ scopes })));
  });

  it('turns a catalogue entry into an operation: parameters, JSON body, answers, usual errors, security', () => {
    const doc = buildOpenApiDocument({ scopes, routes: [routeFixture] });
    const op = operationOf(doc, '/api/v1/things/{id}/run', 'post');
    expect(op).to.include({ operationId: 'runThing', summary: 'Run a thing' });
    expect(op.tags).to.deep.equal(['Blocks']);
    expect(op.parameters).to.deep.equal([
      { name: 'id', in: 'path', required: true, description: 'The thing.', schema: { type: 'string' } },
      { name: 'wait', in: 'query', required: false, description: 'Seconds.', schema: { type: 'number' } },
    ]);
    expect(op.requestBody).to.deep.equal({ required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ExecuteBlockRequest' } } } });
    expect(op.responses['202'].content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/ExecuteBlockAccepted' });
    expect(op.responses['202'].headers.Location).to.deep.equal({ description: 'The execution.', schema: { type: 'string' } });
    expect(op.responses['202'].headers['X-RateLimit-Remaining']).to.deep.equal({ $ref: '#/components/headers/XRateLimitRemaining' });
    expect(op.responses['404']).to.deep.equal({ description: 'No such thing.', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } });
    expect(Object.keys(op.responses)).to.deep.equal(['202', '400', '401', '403', '404', '413', '422', '429', 'default']);
    expect(op.responses['429']).to.deep.equal({ $ref: '#/components/responses/TooManyRequests' });
    expect(op.security).to.deep.equal([{ ApiKey: ['EXECUTE_BLOCK'] }, { BearerAuth: ['EXECUTE_BLOCK'] }, { OAuth2: ['EXECUTE_BLOCK'] }]);
  });

  it('gives apps OAuth2 with the scope, the owner API key, bearer or session, public routes nothing', () => {
    const doc = buildOpenApiDocument({
      scopes,
      routes: [
        { ...routeFixture, operationId: 'a', path: '/api/external/v1/a', pathParams: {}, auth: 'app', scopes: ['agents:execute'] },
        { ...routeFixture, operationId: 'b', path: '/oauth/clients/b', pathParams: {}, auth: 'owner', scopes: [] },
        { ...routeFixture, operationId: 'c', path: '/healthz', pathParams: {}, auth: 'none', scopes: [], body: undefined, query: [], errors: {} },
      ],
    });
    expect(operationOf(doc, '/api/external/v1/a', 'post').security).to.deep.equal([{ OAuth2: ['agents:execute'] }]);
    expect(operationOf(doc, '/oauth/clients/b', 'post').security).to.deep.equal([{ ApiKey: [] }, { BearerAuth: [] }, { Session: [] }]);
    const open = operationOf(doc, '/healthz', 'post');
    expect(open.security).to.deep.equal([]);
    expect(Object.keys(open.responses)).to.deep.equal(['202', 'default']); // no auth, body or rate limit errors
  });

  it('refuses an unknown scope, tag or path parameter and a route or operationId listed twice', () => {
    expect(() => buildOpenApiDocument({ scopes, routes: [{ ...routeFixture, scopes: ['NOPE'] }] })).to.throw(/unknown scope NOPE/);
    expect(() => buildOpenApiDocument({ scopes, routes: [{ ...routeFixture, tag: 'Nope' }] })).to.throw(/unknown tag/);
    expect(() => buildOpenApiDocument({ scopes, routes: [{ ...routeFixture, pathParams: { other: 'x' } }] })).to.throw(/path parameter other/);
    expect(() => buildOpenApiDocument({ scopes, routes: [routeFixture, routeFixture] })).to.throw(/used twice/);
    expect(() => buildOpenApiDocument({ scopes, routes: [routeFixture, { ...routeFixture, operationId: 'other' }] })).to.throw(/listed twice/);
  });

  describe('components.schemas', () => {
    const doc = buildOpenApiDocument({ scopes });
    const schemas = doc.components.schemas as Record<string, Record<string, unknown>>;

    it('holds every contract schema by its title, $id dropped and file $refs pointing into components', () => {
      expect(Object.keys(schemas).sort()).to.deep.equal(allSchemas.map((s) => s.title).sort());
      expect(schemas.GrantList).to.deep.equal({ title: 'GrantList', description: 'Credential grants, oldest first.', type: 'array', items: { $ref: '#/components/schemas/GrantBody' } });
      const refs = JSON.stringify(schemas).match(/"\$ref":"[^"]*"/g) ?? [];
      expect(refs.length).to.be.greaterThan(20);
      for (const ref of refs) expect(ref).to.match(/^"\$ref":"#\/components\/schemas\/[A-Za-z]+"$/);
      expect(JSON.stringify(schemas)).not.to.contain('"$id"');
    });

    it('compile as JSON Schema 2020-12 (the dialect it declares), strict, and validate as the contracts do', () => {
      expect(doc.jsonSchemaDialect).to.equal('https://json-schema.org/draft/2020-12/schema');
      const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
      addFormats(ajv);
      ajv.addKeyword('components');
      ajv.addSchema({ $id: 'openapi.json', components: doc.components });
      for (const name of Object.keys(schemas)) expect(() => ajv.getSchema(`openapi.json#/components/schemas/${name}`), name).not.to.throw();
      const execution = ajv.getSchema('openapi.json#/components/schemas/ExecutionBody')!;
      const body = { execution_id: 'e1', block_id: 'example.echo', status: 'completed', inputs: {}, outputs: { text: ['hi'] }, error: null, cost_usd: 0, created_at: '2025-01-01T00:00:00Z', started_at: null, completed_at: null };
      expect(execution(body), JSON.stringify(execution.errors)).to.equal(true);
      expect(execution({ ...body, status: 'sideways' })).to.equal(false);
      const node = ajv.getSchema('openapi.json#/components/schemas/AgentNodeBody')!;
      expect(node({ id: 'n', kind: 'block', block_id: 'example.echo' })).to.equal(true);
      expect(node({ id: 'n', kind: 'block' })).to.equal(false); // the block branch needs block_id
      const self = ajv.getSchema('openapi.json#/components/schemas/OpenApiDocument')!;
      expect(self(doc), JSON.stringify(self.errors)).to.equal(true);
    });
  });
});
