import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Which code was measured: numbers from a tree with uncommitted changes are not those of its commit. */
export interface CodeRevision {
  commit: string | null;
  /** Files with uncommitted changes (tracked or not) when the bench ran; null when git is unavailable. */
  uncommittedFiles: string[] | null;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function git(...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

export function describeRevision(): CodeRevision {
  const commit = git('rev-parse', 'HEAD')?.trim() || null;
  const status = git('status', '--porcelain', '--untracked-files=all');
  const uncommittedFiles =
    status === null
      ? null
      : status
          .split('\n')
          .filter(Boolean)
          .map((line) => line.slice(3))
          .filter((path) => !path.startsWith('bench/results/')); // the bench's own output
  return { commit, uncommittedFiles };
}
