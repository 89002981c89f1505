import { defineBlock, sleep, type PluginHandlers } from '@blockyard/plugin-sdk';

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
  api_base_url: string;
}

/**
 * example.greet, the tutorial's ExampleBlock: one resource per greeting at the Example API
 * (POST {api_base_url}/resources), each response streamed as it comes.
 */
export const greet = defineBlock<GreetInputs>(async function* (inputs, context) {
  const all: Array<{ message: string }> = [];
  for (const greeting of inputs.greetings) {
    const full = `${greeting}, ${inputs.name}${inputs.is_funny ? ' :)' : '.'}`;
    const res = await fetch(`${inputs.api_base_url.replace(/\/$/, '')}/resources`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name: full, type: 'greeting' }),
      signal: context.signal,
    });
    if (!res.ok) {
      yield ['error', `Example API answered ${res.status} when creating a resource`];
      return;
    }
    const body = (await res.json().catch(() => ({}))) as { message?: unknown };
    const response = { message: `API response: ${typeof body.message === 'string' ? body.message : 'Hello, world!'}` };
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
