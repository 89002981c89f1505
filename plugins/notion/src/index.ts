import type { PluginHandlers } from '@blockyard/plugin-sdk';
import { createPage } from './create-page.js';
import { queryDatabase } from './query-database.js';

export { createPage, MAX_CHILDREN_PER_REQUEST, MAX_TEXT_LENGTH, paragraphBlocks, richText, type CreatedPage, type CreatePageInputs } from './create-page.js';
export { queryDatabase, type NotionPage, type QueryDatabaseInputs } from './query-database.js';
export { NOTION_VERSION, notionError, notionId, notionRequest, retryAfterSeconds, type NotionErrorBody } from './notion-api.js';

export const handlers: PluginHandlers = {
  'notion.create_page': createPage,
  'notion.query_database': queryDatabase,
};
