import { pointer } from './naming.js';

/** One problem with a pointer into the manifest (as validate-plugin reports them). */
export interface TriggerWebhookProblem {
  path: string;
  message: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * The rules of trigger blocks' webhook declarations, which the manifest schema cannot say: a
 * trigger block declares `webhook.events`; only trigger blocks do; its provider (its
 * credential's, else the one its id starts with) declares `webhooks`, and each event is one of
 * the provider's `event_types`; each of `webhook.config_inputs` is an input of the block.
 * `otherProvider` finds providers declared by plugins loaded before (the loader's registry).
 */
export function triggerWebhookProblems(manifest: unknown, otherProvider: (name: string) => unknown = () => undefined): TriggerWebhookProblem[] {
  if (!isObject(manifest)) return [];
  const problems: TriggerWebhookProblem[] = [];
  const own = new Map(
    list(manifest.providers)
      .filter(isObject)
      .filter((p) => isString(p.name))
      .map((p) => [p.name as string, p] as const),
  );
  list(manifest.blocks).forEach((b, i) => {
    if (!isObject(b)) return;
    const at = pointer('blocks', i, 'webhook');
    const webhook = b.webhook;
    if (b.kind !== 'trigger') {
      if (webhook !== undefined) problems.push({ path: at, message: 'only trigger blocks take webhook events: set "kind": "trigger" or remove it' });
      return;
    }
    if (!isObject(webhook)) {
      if (webhook === undefined) problems.push({ path: at, message: "is required for a trigger block: { \"events\": [...] }, the event types of its provider's webhooks that fire it" });
      return; // the manifest schema reports any other shape
    }
    const providerName = isObject(b.credentials) && isString(b.credentials.provider) ? b.credentials.provider : isString(b.id) ? b.id.split('.')[0]! : '';
    const provider = own.get(providerName) ?? otherProvider(providerName);
    const declared = isObject(provider) && isObject(provider.webhooks) ? provider.webhooks : null;
    if (!declared) {
      problems.push({ path: at, message: `provider ${providerName || '(none)'} of this trigger declares no webhooks (providers[].webhooks with its event_types and manager)` });
    } else {
      const types = list(declared.event_types).filter(isString);
      list(webhook.events).forEach((event, k) => {
        if (isString(event) && !types.includes(event)) {
          problems.push({ path: `${at}/events/${k}`, message: `"${event}" is not a webhook event type of provider ${providerName} (it declares ${types.join(', ') || 'none'})` });
        }
      });
    }
    const inputs = isObject(b.input_schema) && isObject(b.input_schema.properties) ? Object.keys(b.input_schema.properties) : [];
    list(webhook.config_inputs).forEach((name, k) => {
      if (isString(name) && !inputs.includes(name)) problems.push({ path: `${at}/config_inputs/${k}`, message: `"${name}" is not an input of this block (${inputs.join(', ') || 'it has none'})` });
    });
  });
  return problems;
}
