/** Agent bodies (as POST /api/v1/agents takes them) that several end-to-end specs run. */

/** name -> example.greet (one greeting, with the given credential) -> count. */
export const greetAgent = (credentialId: string) => ({
  name: 'greeter',
  nodes: [
    { id: 'who', kind: 'input', name: 'name', schema: { type: 'string' }, required: true },
    { id: 'greet', kind: 'block', block_id: 'example.greet', inputs: { greetings: ['Hello'], is_funny: false }, credentials: { credentials: credentialId } },
    { id: 'count', kind: 'output', name: 'count', schema: { type: 'integer' } },
  ],
  links: [
    { source_node_id: 'who', source_output: 'value', sink_node_id: 'greet', sink_input: 'name' },
    { source_node_id: 'greet', source_output: 'greeting_count', sink_node_id: 'count', sink_input: 'value' },
  ],
});
