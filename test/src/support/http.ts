/** A small JSON client over fetch for the tests. */
export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(base: string, method: string, path: string, options: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* leave as text */
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Polls GET /api/v1/executions/:id until its status is one of `statuses`. */
export async function pollExecution(base: string, key: string, id: string, statuses: string[], timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: JsonResponse<any> | undefined;
  while (Date.now() < deadline) {
    last = await request(base, 'GET', `/api/v1/executions/${id}`, { key });
    if (last.status === 200 && statuses.includes(last.body.status)) return last.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`execution ${id} did not reach ${statuses.join('|')}: last ${JSON.stringify(last?.body)}`);
}
