import { expect } from 'chai';
import { isKebabCase, isSnakeCase, ownProviderNames, pointer, toPascalCase, toSnakeCase, toTitle } from './naming.js';

describe('naming', () => {
  it('tells kebab-case and snake_case apart', () => {
    expect(['acme-crm', 'a', 'google-sheets2'].map(isKebabCase)).to.deep.equal([true, true, true]);
    expect(['Acme', 'acme_crm', 'acme--crm', '-acme', 'acme-', '2acme'].map(isKebabCase)).to.deep.equal([false, false, false, false, false, false]);
    expect(['create_contact', 'list', 'v2_items'].map(isSnakeCase)).to.deep.equal([true, true, true]);
    expect(['createContact', 'create-contact', 'create__contact', '_x', 'x_'].map(isSnakeCase)).to.deep.equal([false, false, false, false, false]);
  });

  it('converts between styles', () => {
    expect(toSnakeCase('createContact')).to.equal('create_contact');
    expect(toSnakeCase('HTTPRequest')).to.equal('http_request');
    expect(toSnakeCase('my-integration')).to.equal('my_integration');
    expect(toSnakeCase('2fa')).to.equal('x_2fa');
    expect(toPascalCase('acme_crm')).to.equal('AcmeCrm');
    expect(toTitle('acme-crm')).to.equal('Acme Crm');
    expect(toTitle('create_contact', true)).to.equal('Create contact');
  });

  it("names a plugin's own providers from its package name", () => {
    expect(ownProviderNames('@blockyard/plugin-example')).to.deep.equal(['example', 'plugin_example']);
    expect(ownProviderNames('acme-crm')).to.deep.equal(['acme_crm']);
    expect(ownProviderNames('@acme/blockyard-crm')).to.deep.equal(['crm', 'blockyard_crm']);
    expect(ownProviderNames('slack-plugin')).to.deep.equal(['slack', 'slack_plugin']);
  });

  it('escapes JSON pointer segments', () => {
    expect(pointer('blocks', 0, 'a/b', 'c~d')).to.equal('/blocks/0/a~1b/c~0d');
    expect(pointer()).to.equal('');
  });
});
