import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the stand-in received. */
export interface NotionRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
}

type PropertyType = 'title' | 'checkbox' | 'multi_select' | 'rich_text' | 'number';

export interface NotionDatabase {
  id: string;
  title: string;
  /** Property name -> its id and type; the title property's id is always `title`. */
  properties: Record<string, { id: string; type: PropertyType }>;
}

export interface NotionPageRecord {
  object: 'page';
  id: string;
  created_time: string;
  last_edited_time: string;
  parent: { type: 'database_id'; database_id: string } | { type: 'page_id'; page_id: string };
  archived: boolean;
  properties: Record<string, Record<string, unknown>>;
  url: string;
}

export interface NotionApiStandIn {
  /** The API's base URL, with its version path: `http://127.0.0.1:<port>/v1`. */
  url: string;
  received: NotionRequest[];
  databases: NotionDatabase[];
  pages: NotionPageRecord[];
  /** Each page's child blocks, by page id. */
  children: Map<string, unknown[]>;
  /** A database shared with the integration: Name (title), Done (checkbox), Tags (multi_select). */
  addDatabase(title: string): NotionDatabase;
  /** A page shared with the integration (a parent for sub-pages). */
  addPage(title: string): NotionPageRecord;
  /** `count` entries in a database, "Item 1" ... , Done on every `doneEvery`th. */
  seedPages(database: NotionDatabase, count: number, doneEvery?: number): NotionPageRecord[];
  /** The next `count` requests get 429 rate_limited with Retry-After: `retryAfterSeconds`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  close(): Promise<void>;
}

const VERSION = '2022-06-28';
const MAX_CHILDREN = 100;
const MAX_TEXT = 2000;

/**
 * Plays the Notion API (https://developers.notion.com/reference) on 127.0.0.1 under /v1, for
 * the endpoints the plugin uses: POST /v1/pages, PATCH /v1/blocks/{id}/children, POST
 * /v1/databases/{id}/query (checkbox filters, created_time sorts, cursor pagination with
 * page_size / start_cursor / has_more / next_cursor).
 *
 * Requests must carry `Authorization: Bearer <token>` (else 401 unauthorized) and
 * `Notion-Version: 2022-06-28` (else 400 missing_version). Errors are Notion's `{ object:
 * 'error', status, code, message }`: object_not_found 404 for anything not shared with the
 * integration, validation_error 400, rate_limited 429 with Retry-After, invalid_request_url 400.
 */
export async function startNotionApi(options: { token: string }): Promise<NotionApiStandIn> {
  const received: NotionRequest[] = [];
  const databases: NotionDatabase[] = [];
  const pages: NotionPageRecord[] = [];
  const children = new Map<string, unknown[]>();
  let rateLimited = 0;
  let retryAfter = 1;
  let clock = Date.parse('2025-01-01T00:00:00Z');

  const plain = (id: string) => id.replace(/-/g, '').toLowerCase();
  const findDatabase = (id: string) => databases.find((d) => plain(d.id) === plain(id));
  const findPage = (id: string) => pages.find((p) => plain(p.id) === plain(id));
  const titleOf = (text: string) => [{ type: 'text', text: { content: text, link: null }, plain_text: text, href: null }];

  const storePage = (parent: NotionPageRecord['parent'], properties: NotionPageRecord['properties'], title: string): NotionPageRecord => {
    const id = randomUUID();
    const at = new Date((clock += 1000)).toISOString();
    const slug = title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const page: NotionPageRecord = { object: 'page', id, created_time: at, last_edited_time: at, parent, archived: false, properties, url: `https://www.notion.so/${slug ? `${slug}-` : ''}${plain(id)}` };
    pages.push(page);
    children.set(id, []);
    return page;
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        /* keep the text */
      }
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      answer(req.method!, req.url!, req.headers, raw, body, res);
    });
  });

  function answer(method: string, path: string, headers: IncomingHttpHeaders, raw: string, body: unknown, res: ServerResponse): void {
    if (headers.authorization !== `Bearer ${options.token}`) return error(res, 401, 'unauthorized', 'API token is invalid.');
    if (headers['notion-version'] === undefined) return error(res, 400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.');
    if (headers['notion-version'] !== VERSION) return error(res, 400, 'validation_error', `Notion-Version header failed validation: ${headers['notion-version']} is not a supported version.`);
    if (rateLimited > 0) {
      rateLimited--;
      return error(res, 429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.', { 'retry-after': String(retryAfter) });
    }
    if (raw && typeof body === 'string') return error(res, 400, 'invalid_json', 'Error parsing JSON body.');
    const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;

    if (method === 'POST' && path === '/v1/pages') return createPage(res, json);
    const append = /^\/v1\/blocks\/([^/?]+)\/children$/.exec(path);
    if (method === 'PATCH' && append) return appendChildren(res, decodeURIComponent(append[1]!), json);
    const query = /^\/v1\/databases\/([^/?]+)\/query$/.exec(path);
    if (method === 'POST' && query) return queryDatabase(res, decodeURIComponent(query[1]!), json);
    return error(res, 400, 'invalid_request_url', 'Invalid request URL.');
  }

  function createPage(res: ServerResponse, body: Record<string, unknown>): void {
    const parent = body.parent as { database_id?: unknown; page_id?: unknown } | undefined;
    if (!parent || (typeof parent.database_id !== 'string' && typeof parent.page_id !== 'string')) return error(res, 400, 'validation_error', 'body failed validation: body.parent should be defined, instead was `undefined`.');
    const properties = (body.properties ?? {}) as Record<string, Record<string, unknown>>;
    const blocks = body.children === undefined ? [] : body.children;
    const invalid = validateBlocks(blocks);
    if (invalid) return error(res, 400, 'validation_error', invalid);

    const stored: NotionPageRecord['properties'] = {};
    let title = '';
    let pageParent: NotionPageRecord['parent'];
    if (typeof parent.database_id === 'string') {
      const database = findDatabase(parent.database_id);
      if (!database) return error(res, 404, 'object_not_found', `Could not find database with ID: ${parent.database_id}. Make sure the relevant pages and databases are shared with your integration.`);
      for (const [key, value] of Object.entries(properties)) {
        const entry = Object.entries(database.properties).find(([name, p]) => name === key || p.id === key);
        if (!entry) return error(res, 400, 'validation_error', `${key} is not a property that exists.`);
        const [name, property] = entry;
        if (!(property.type in value)) return error(res, 400, 'validation_error', `${name} is expected to be ${property.type}.`);
        stored[name] = { id: property.id, type: property.type, [property.type]: value[property.type] };
        if (property.type === 'title') title = plainText(value.title);
      }
      pageParent = { type: 'database_id', database_id: database.id };
    } else {
      const parentPage = findPage(parent.page_id as string);
      if (!parentPage) return error(res, 404, 'object_not_found', `Could not find page with ID: ${parent.page_id}. Make sure the relevant pages and databases are shared with your integration.`);
      for (const key of Object.keys(properties)) {
        if (key !== 'title') return error(res, 400, 'validation_error', `Invalid property identifier for a page under a page: ${key}. Only title is allowed.`);
      }
      if (properties.title) {
        stored.title = { id: 'title', type: 'title', title: properties.title.title };
        title = plainText(properties.title.title);
      }
      pageParent = { type: 'page_id', page_id: parentPage.id };
    }
    const page = storePage(pageParent, stored, title);
    children.get(page.id)!.push(...(blocks as unknown[]));
    send(res, 200, page);
  }

  function appendChildren(res: ServerResponse, blockId: string, body: Record<string, unknown>): void {
    const page = findPage(blockId);
    if (!page) return error(res, 404, 'object_not_found', `Could not find block with ID: ${blockId}. Make sure the relevant pages and databases are shared with your integration.`);
    if (!Array.isArray(body.children)) return error(res, 400, 'validation_error', 'body failed validation: body.children should be defined, instead was `undefined`.');
    const invalid = validateBlocks(body.children);
    if (invalid) return error(res, 400, 'validation_error', invalid);
    const added = body.children.map((b: Record<string, unknown>) => ({ object: 'block', id: randomUUID(), has_children: false, ...b }));
    children.get(page.id)!.push(...body.children);
    send(res, 200, { object: 'list', results: added, next_cursor: null, has_more: false, type: 'block', block: {} });
  }

  function queryDatabase(res: ServerResponse, databaseId: string, body: Record<string, unknown>): void {
    const database = findDatabase(databaseId);
    if (!database) return error(res, 404, 'object_not_found', `Could not find database with ID: ${databaseId}. Make sure the relevant pages and databases are shared with your integration.`);
    const pageSize = body.page_size ?? 100;
    if (!Number.isInteger(pageSize) || (pageSize as number) < 1 || (pageSize as number) > 100) return error(res, 400, 'validation_error', `body failed validation: body.page_size should be ≤ 100, instead was \`${JSON.stringify(pageSize)}\`.`);
    let rows = pages.filter((p) => p.parent.type === 'database_id' && p.parent.database_id === database.id);

    const filter = body.filter as { property?: string; checkbox?: { equals?: boolean } } | undefined;
    if (filter !== undefined) {
      const entry = Object.entries(database.properties).find(([name, p]) => name === filter.property || p.id === filter.property);
      if (!entry) return error(res, 400, 'validation_error', `Could not find property with name or id: ${filter.property}`);
      if (entry[1].type !== 'checkbox' || typeof filter.checkbox?.equals !== 'boolean') return error(res, 400, 'validation_error', 'body failed validation: the stand-in filters on checkbox equals only.');
      rows = rows.filter((p) => (p.properties[entry[0]]?.checkbox ?? false) === filter.checkbox!.equals);
    }
    const sorts = body.sorts as Array<{ timestamp?: string; direction?: string }> | undefined;
    if (sorts !== undefined) {
      for (const sort of sorts) {
        if (sort.timestamp !== 'created_time' || (sort.direction !== 'ascending' && sort.direction !== 'descending')) return error(res, 400, 'validation_error', 'body failed validation: the stand-in sorts on created_time only.');
      }
      if (sorts[0]?.direction === 'descending') rows = [...rows].reverse();
    }
    let start = 0;
    if (body.start_cursor !== undefined) {
      start = rows.findIndex((p) => p.id === body.start_cursor);
      if (start === -1) return error(res, 400, 'validation_error', `body failed validation: body.start_cursor should be a valid cursor, instead was \`${JSON.stringify(body.start_cursor)}\`.`);
    }
    const results = rows.slice(start, start + (pageSize as number));
    const next = rows[start + results.length];
    send(res, 200, { object: 'list', results, next_cursor: next ? next.id : null, has_more: next !== undefined, type: 'page_or_database', page_or_database: {} });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    databases,
    pages,
    children,
    addDatabase(title) {
      const database: NotionDatabase = {
        id: randomUUID(),
        title,
        properties: { Name: { id: 'title', type: 'title' }, Done: { id: 'Xy%3A', type: 'checkbox' }, Tags: { id: 'T%5Eg', type: 'multi_select' } },
      };
      databases.push(database);
      return database;
    },
    addPage(title) {
      return storePage({ type: 'page_id', page_id: randomUUID() }, { title: { id: 'title', type: 'title', title: titleOf(title) } }, title);
    },
    seedPages(database, count, doneEvery = 0) {
      return Array.from({ length: count }, (_, i) =>
        storePage(
          { type: 'database_id', database_id: database.id },
          {
            Name: { id: 'title', type: 'title', title: titleOf(`Item ${i + 1}`) },
            Done: { id: 'Xy%3A', type: 'checkbox', checkbox: doneEvery > 0 && (i + 1) % doneEvery === 0 },
          },
          `Item ${i + 1}`,
        ),
      );
    },
    rateLimitNext(count, seconds) {
      rateLimited = count;
      retryAfter = seconds;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Notion's limits on blocks: at most 100 per request, text objects of at most 2000 characters. */
function validateBlocks(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'body failed validation: body.children should be an array.';
  if (blocks.length > MAX_CHILDREN) return `body failed validation: body.children.length should be ≤ ${MAX_CHILDREN}, instead was ${blocks.length}.`;
  for (const [i, block] of blocks.entries()) {
    const b = block as { type?: string; [k: string]: unknown };
    const richText = (b.type ? (b[b.type] as { rich_text?: Array<{ text?: { content?: string } }> } | undefined)?.rich_text : undefined) ?? [];
    for (const [j, t] of richText.entries()) {
      if ((t.text?.content?.length ?? 0) > MAX_TEXT) return `body failed validation: body.children[${i}].${b.type}.rich_text[${j}].text.content.length should be ≤ ${MAX_TEXT}, instead was ${t.text!.content!.length}.`;
    }
  }
  return null;
}

function plainText(richText: unknown): string {
  return Array.isArray(richText) ? richText.map((t: { text?: { content?: string } }) => t.text?.content ?? '').join('') : '';
}

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { object: 'error', status, code, message, request_id: randomUUID() }, headers);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
