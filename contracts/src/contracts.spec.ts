import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { allSchemas } from './generated/schemas.js';
import { createAjv, formatIssues } from './ajv.js';
import { ContractValidators } from './validators.js';

const schemaDir = fileURLToPath(new URL('../schemas/', import.meta.url));

describe('contracts', () => {
  describe('schemas', () => {
    it('are all generated into code, one constant per file', () => {
      const files = readdirSync(schemaDir).filter((f) => f.endsWith('.schema.json')).sort();
      expect(allSchemas.map((s) => s.$id).sort()).to.deep.equal(files);
      for (const file of files) {
        expect(allSchemas.find((s) => s.$id === file)).to.deep.equal(JSON.parse(readFileSync(join(schemaDir, file), 'utf8')));
      }
    });

    it('compile in ajv strict mode', () => {
      const ajv = createAjv({ strict: true, allowUnionTypes: true });
      for (const schema of allSchemas) ajv.addSchema(schema as object);
      for (const schema of allSchemas) expect(() => ajv.getSchema(schema.$id), schema.$id).not.to.throw();
    });
  });

  describe('ContractValidators', () => {
    const validators = new ContractValidators();

    it('accepts the example plugin manifest', () => {
      const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../plugins/example/blockyard.plugin.json', import.meta.url)), 'utf8'));
      const result = validators.validate('plugin-manifest.schema.json', manifest);
      expect(result.ok, JSON.stringify(!result.ok && result.issues)).to.equal(true);
    });

    it('reports every problem at once with JSON pointers', () => {
      const result = validators.validate('plugin-manifest.schema.json', { name: '', version: '1', blocks: [{ id: 'x' }] });
      expect(result.ok).to.equal(false);
      const text = formatIssues(!result.ok ? result.issues : []);
      expect(text).to.contain('/entry: is required');
      expect(text).to.contain('/name: must NOT have fewer than 1 characters');
      expect(text).to.contain('/version: must match pattern');
      expect(text).to.contain('/blocks/0/id: must match pattern');
      expect(text).to.contain('/blocks/0/input_schema: is required');
    });

    it('rejects an execution body with an unknown status', () => {
      const body = { execution_id: 'e', block_id: 'a.b', status: 'paused', inputs: {}, outputs: {}, error: null, cost_usd: 0, created_at: new Date().toISOString(), started_at: null, completed_at: null };
      const result = validators.validate('execution.schema.json', body);
      expect(!result.ok && result.issues.map((i) => i.path)).to.deep.equal(['/status']);
    });

    it('rejects a date-time that is not one', () => {
      const body = { execution_id: 'e', block_id: 'a.b', status: 'queued', inputs: {}, outputs: {}, error: null, cost_usd: 0, created_at: 'yesterday', started_at: null, completed_at: null };
      expect(validators.validate('execution.schema.json', body).ok).to.equal(false);
    });
  });
});
