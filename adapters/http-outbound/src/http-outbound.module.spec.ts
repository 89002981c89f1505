import { expect } from 'chai';
import { Container } from 'inversify';
import { OutboundHttp } from '@blockyard/core';
import { outboundHttpModule } from './http-outbound.module.js';
import { NodeOutboundHttp } from './node-outbound-http.js';

describe('outboundHttpModule', () => {
  it('binds OutboundHttp to one NodeOutboundHttp', async () => {
    const container = new Container();
    container.load(outboundHttpModule({ allowHosts: ['127.0.0.1'] }));
    const http = container.get<OutboundHttp>(OutboundHttp);
    expect(http).to.be.instanceOf(NodeOutboundHttp);
    expect(container.get(OutboundHttp)).to.equal(http);
    await (http as NodeOutboundHttp).close();
  });
});
