import { ActionError, defineBlock, type BlockContext } from '@blockyard/plugin-sdk';
import { notionId, notionRequest } from './notion-api.js';

export interface CreatePageInputs {
  /** Parent database: the page becomes one of its entries. */
  database_id?: string;
  /** Parent page: the page becomes its sub-page. */
  page_id?: string;
  title: string;
  /** More property values, in Notion's format (database parents only). */
  properties?: Record<string, unknown>;
  /** The page body: paragraphs (a string's blank lines separate them). */
  content?: string | string[];
}

/** The page as notion.create_page yields it. */
export interface CreatedPage {
  id: string;
  url: string;
}

/** Notion's limits: blocks per create or append request, characters per text object. */
export const MAX_CHILDREN_PER_REQUEST = 100;
export const MAX_TEXT_LENGTH = 2000;

/**
 * notion.create_page: creates a page under a database or a page (POST /pages) with its title,
 * other properties and paragraphs of content (past 100 blocks, appended with PATCH
 * /blocks/{id}/children), and yields `page` { id, url }.
 */
export const createPage = defineBlock<CreatePageInputs>(async function* (inputs, context) {
  if ((inputs.database_id === undefined) === (inputs.page_id === undefined)) throw new ActionError('give the parent as either database_id or page_id');
  const parent = inputs.database_id !== undefined ? { database_id: notionId(inputs.database_id, 'database_id') } : { page_id: notionId(inputs.page_id!, 'page_id') };
  // `title` is the id of every database's title property, whatever its name, and the only property of a sub-page.
  const properties = { ...(inputs.properties ?? {}), title: { title: richText(inputs.title) } };
  const blocks = paragraphBlocks(inputs.content);
  const body: Record<string, unknown> = { parent, properties };
  if (blocks.length > 0) body.children = blocks.slice(0, MAX_CHILDREN_PER_REQUEST);

  const created = await notionRequest<{ id: string; url: string }>(context, 'POST', '/pages', body);
  const page: CreatedPage = { id: created.id, url: created.url };
  await appendRest(context, page, blocks.slice(MAX_CHILDREN_PER_REQUEST));
  yield ['page', page];
});

async function appendRest(context: BlockContext, page: CreatedPage, rest: readonly NotionBlock[]): Promise<void> {
  for (let i = 0; i < rest.length; i += MAX_CHILDREN_PER_REQUEST) {
    try {
      await notionRequest(context, 'PATCH', `/blocks/${encodeURIComponent(page.id)}/children`, { children: rest.slice(i, i + MAX_CHILDREN_PER_REQUEST) });
    } catch (e) {
      if (!ActionError.is(e)) throw e;
      throw new ActionError(`the page was created (${page.url}) but only part of its content was added: ${e.message}`);
    }
  }
}

export interface NotionRichText {
  type: 'text';
  text: { content: string };
}

export interface NotionBlock {
  object: 'block';
  type: 'paragraph';
  paragraph: { rich_text: NotionRichText[] };
}

/** Text as rich text objects of at most 2000 characters each (Notion's limit). */
export function richText(text: string): NotionRichText[] {
  const chunks: NotionRichText[] = [];
  for (let i = 0; i < text.length; i += MAX_TEXT_LENGTH) chunks.push({ type: 'text', text: { content: text.slice(i, i + MAX_TEXT_LENGTH) } });
  return chunks;
}

/** Paragraph blocks: one per array item, or per blank-line-separated part of a string; empty ones dropped. */
export function paragraphBlocks(content: string | readonly string[] | undefined): NotionBlock[] {
  if (content === undefined) return [];
  const parts = typeof content === 'string' ? content.split(/\r?\n[ \t]*\r?\n/) : content;
  return parts
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: richText(part) } }));
}
