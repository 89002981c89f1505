import { expect } from 'chai';
import { safeNextPath } from './session-auth.js';

describe('safeNextPath (the path to go to after login)', () => {
  it('never returns a protocol-relative //host that dot segments make of a path', () => {
    for (const bad of ['/.//evil.com', '/..//evil.com', '/%2e//evil.com', '/%2E%2E//evil.com', '/a/..//evil.com', '/a/b/../..//evil.com', '/././/evil.com/x?y=1']) {
      expect(safeNextPath(bad), bad).to.equal('/account');
      expect(safeNextPath(bad, '/home'), bad).to.equal('/home');
    }
  });

  it('refuses a backslash anywhere (browsers read it as a slash)', () => {
    for (const bad of ['/\\evil.com', '/.\\/evil.com', '/a\\b', '/a/..\\\\evil.com', '/x?next=\\\\evil.com']) expect(safeNextPath(bad), bad).to.equal('/account');
  });

  it('still normalises harmless dot segments and keeps same-site paths with their query and fragment', () => {
    expect(safeNextPath('/a/../account?x=1#y')).to.equal('/account?x=1#y');
    expect(safeNextPath('/./connect/github')).to.equal('/connect/github');
    expect(safeNextPath('/a/.//b')).to.equal('/a//b');
    expect(safeNextPath('/oauth/interaction/abc?x=%2F%2Fevil.com')).to.equal('/oauth/interaction/abc?x=%2F%2Fevil.com');
  });
});
