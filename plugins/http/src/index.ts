import type { PluginHandlers } from '@blockyard/plugin-sdk';
import { httpRequest } from './request.js';

export { httpRequest, requestFailure, type HttpMethod, type HttpRequestInputs } from './request.js';

export const handlers: PluginHandlers = {
  'http.request': httpRequest,
};
