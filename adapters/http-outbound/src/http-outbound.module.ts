import { ContainerModule } from 'inversify';
import { OutboundHttp } from '@blockyard/core';
import { NodeOutboundHttp, type NodeOutboundHttpOptions } from './node-outbound-http.js';

/** Binds OutboundHttp (`context.fetch`) to undici, with the SSRF guard on. */
export function outboundHttpModule(options: NodeOutboundHttpOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(OutboundHttp).toConstantValue(new NodeOutboundHttp(options));
  });
}
