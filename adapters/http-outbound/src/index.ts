export { NodeOutboundHttp, type NodeOutboundHttpOptions } from './node-outbound-http.js';
export { outboundHttpModule } from './http-outbound.module.js';
export type { HostResolver } from './guarded-lookup.js';
