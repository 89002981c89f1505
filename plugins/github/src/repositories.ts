// github.list_repositories: the authenticated user's repositories, one page of them.
// REST shape: https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user
import { defineBlock } from '@blockyard/plugin-sdk';
import { expectArray, GITHUB_HEADERS, githubError } from './github-api.js';

/** A repository as this plugin outputs it. */
export interface Repository {
  id: number;
  name: string;
  full_name: string;
  owner: string | null;
  private: boolean;
  visibility: string;
  description: string | null;
  html_url: string;
  default_branch: string | null;
  fork: boolean;
  archived: boolean;
  updated_at: string | null;
}

/** The parts of GitHub's repository object this plugin reads. */
interface GitHubRepository {
  id: number;
  name: string;
  full_name: string;
  owner?: { login: string } | null;
  private: boolean;
  visibility?: string;
  description?: string | null;
  html_url: string;
  default_branch?: string;
  fork?: boolean;
  archived?: boolean;
  updated_at?: string | null;
}

export function toRepository(raw: GitHubRepository): Repository {
  return {
    id: raw.id,
    name: raw.name,
    full_name: raw.full_name,
    owner: raw.owner?.login ?? null,
    private: raw.private,
    visibility: raw.visibility ?? (raw.private ? 'private' : 'public'),
    description: raw.description ?? null,
    html_url: raw.html_url,
    default_branch: raw.default_branch ?? null,
    fork: raw.fork ?? false,
    archived: raw.archived ?? false,
    updated_at: raw.updated_at ?? null,
  };
}

export interface ListRepositoriesInputs {
  per_page: number;
  page: number;
  visibility?: 'all' | 'public' | 'private';
  sort?: 'created' | 'updated' | 'pushed' | 'full_name';
}

/**
 * github.list_repositories: GET /user/repos. Yields each `repository` as it reads them, then
 * `repositories` (the page) and, when GitHub's Link header says there is one, `next_page`.
 */
export const listRepositories = defineBlock<ListRepositoriesInputs>(async function* ({ per_page, page, visibility, sort }, context) {
  const res = await context.fetch('/user/repos', { query: { per_page, page, visibility, sort }, headers: { ...GITHUB_HEADERS } });
  if (!res.ok) throw githubError(res, { resource: 'the repositories of the authenticated user' });
  const repositories = expectArray<GitHubRepository>(res, 'a list of repositories').map(toRepository);
  for (const repository of repositories) yield ['repository', repository];
  yield ['repositories', repositories];
  const next = nextPage(res.headers.link);
  if (next !== null) yield ['next_page', next];
});

/** The page number of the `rel="next"` link of a GitHub Link header, or null. */
export function nextPage(link: string | undefined): number | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (!match || !match[2]!.split(/\s+/).includes('next')) continue;
    try {
      const page = Number(new URL(match[1]!, 'https://api.github.com').searchParams.get('page'));
      return Number.isInteger(page) && page > 0 ? page : null;
    } catch {
      return null;
    }
  }
  return null;
}
