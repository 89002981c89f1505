import { defineBlock } from '@blockyard/plugin-sdk';
import { notionId, notionRequest } from './notion-api.js';

export interface QueryDatabaseInputs {
  database_id: string;
  /** A Notion filter object. */
  filter?: Record<string, unknown>;
  /** Notion sort objects. */
  sorts?: Array<Record<string, unknown>>;
  /** Pages asked for per request (Notion allows 1 to 100). */
  page_size: number;
  /** Pages yielded at most, over all requests. */
  limit: number;
}

/** A page of a query's results, as Notion answers it. */
export interface NotionPage {
  object: 'page';
  id: string;
  url?: string;
  properties?: Record<string, unknown>;
  [field: string]: unknown;
}

interface QueryAnswer {
  object: 'list';
  results: NotionPage[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * notion.query_database: POST /databases/{id}/query with the filter and sorts, following
 * `has_more` / `next_cursor` until `limit` pages; yields each `page` as its batch arrives,
 * then all of them as `pages`.
 */
export const queryDatabase = defineBlock<QueryDatabaseInputs>(async function* (inputs, context) {
  const limit = inputs.limit ?? 100;
  const pageSize = inputs.page_size ?? 100;
  const path = `/databases/${encodeURIComponent(notionId(inputs.database_id, 'database_id'))}/query`;
  const pages: NotionPage[] = [];
  let cursor: string | null = null;
  do {
    const body: Record<string, unknown> = { page_size: Math.min(pageSize, limit - pages.length) };
    if (inputs.filter !== undefined) body.filter = inputs.filter;
    if (inputs.sorts !== undefined) body.sorts = inputs.sorts;
    if (cursor !== null) body.start_cursor = cursor;
    const answer: QueryAnswer = await notionRequest<QueryAnswer>(context, 'POST', path, body, { retry: true });
    for (const page of (answer.results ?? []).slice(0, limit - pages.length)) {
      pages.push(page);
      yield ['page', page];
    }
    cursor = answer.has_more && answer.next_cursor ? answer.next_cursor : null;
  } while (cursor !== null && pages.length < limit);
  yield ['pages', pages];
});
