import { ActionError, defineBlock, defineWebhookManager, hmacSha256Hex, safeEqual, sleep, type PluginHandlers } from '@blockyard/plugin-sdk';

/** example.echo: yields its input back. */
export const echo = defineBlock<{ text: string }>(async function* ({ text }) {
  yield ['text', text];
});

/** example.sleep: waits, honouring cancel through the signal. */
export const sleepBlock = defineBlock<{ ms: number }>(async function* ({ ms }, context) {
  await sleep(ms, context.signal);
  yield ['slept_ms', ms];
});

interface GreetInputs {
  name: string;
  greetings: string[];
  is_funny: boolean;
}

/**
 * example.greet, the tutorial's ExampleBlock: one resource per greeting at the Example API
 * (POST /resources, relative to the provider's base URL; the API key goes in as a bearer token),
 * each response streamed as it comes.
 */
export const greet = defineBlock<GreetInputs>(async function* (inputs, context) {
  const all: Array<{ message: string }> = [];
  for (const greeting of inputs.greetings) {
    const full = `${greeting}, ${inputs.name}${inputs.is_funny ? ' :)' : '.'}`;
    const res = await context.fetch<{ message?: unknown }>('/resources', { method: 'POST', json: { name: full, type: 'greeting' } });
    if (res.status === 401) throw new ActionError('the Example API rejected the API key');
    if (!res.ok) throw new ActionError(`Example API answered ${res.status} when creating a resource`);
    const response = { message: `API response: ${typeof res.data?.message === 'string' ? res.data.message : 'Hello, world!'}` };
    all.push(response);
    yield ['response', response];
  }
  yield ['all_responses', all];
  yield ['greeting_count', inputs.greetings.length];
});

/** example.trigger, the tutorial's ExampleTriggerBlock: yields the webhook payload. */
export const trigger = defineBlock<{ payload: Record<string, unknown> }>(async function* ({ payload }, context) {
  context.logger.info('example trigger fired', { keys: Object.keys(payload).length });
  yield ['event_data', payload];
});

export const handlers: PluginHandlers = {
  'example.echo': echo,
  'example.sleep': sleepBlock,
  'example.greet': greet,
  'example.trigger': trigger,
};

/**
 * The tutorial's ExampleWebhookManager (manual mode): deliveries carry
 * `X-Example-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook secret>`; the event
 * type is the payload's `webhook_type`, `example_event` when absent.
 */
export const webhooks = {
  example: defineWebhookManager({
    verify(delivery, secret) {
      const signature = delivery.headers['x-example-signature'];
      return typeof signature === 'string' && safeEqual(signature, `sha256=${hmacSha256Hex(secret, delivery.rawBody)}`);
    },
    events(delivery) {
      const payload = (delivery.body ?? {}) as { webhook_type?: unknown };
      const type = typeof payload.webhook_type === 'string' ? payload.webhook_type : 'example_event';
      return [{ type, payload, deliveryId: delivery.headers['x-example-delivery'] }];
    },
  }),
};
