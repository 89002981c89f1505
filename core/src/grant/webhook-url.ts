import { clientWebhookUrlProblem } from '../client-webhook/client-webhook-url.js';
import { ValidationError } from '../errors/domain.errors.js';

/**
 * Checks an execute request's `webhook_url` against its app, by the rules outbound webhooks
 * apply again at delivery (`clientWebhookUrlProblem`): an absolute https URL (http only for
 * localhost, 127.0.0.1, [::1]), without user info or fragment, whose host is among the app's
 * webhook domains. A ValidationError (422) naming the problem otherwise; answers the URL.
 */
export function checkWebhookUrl(value: unknown, webhookDomains: readonly string[]): string {
  const problem = clientWebhookUrlProblem(value, webhookDomains);
  if (problem) throw new ValidationError(`webhook_url ${problem}`, [{ path: '/webhook_url', message: problem }]);
  return value as string;
}
