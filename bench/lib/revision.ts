/** Another revision of the project, checked out beside this one for `--against`: its service runs as the copy. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../tools/processes.js';

export interface Checkout {
  /** The worktree's folder: its src/main.ts is the copy's entry point. */
  dir: string;
  commit: string;
  /** Removes the worktree; safe to call more than once. */
  remove(): void;
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Checks `revision` out in a temporary git worktree. It runs on this checkout's node_modules (a revision
 * with other dependencies needs its own `npm ci`) and on the database this code migrated: a revision
 * skips the migrations it knows by name, so both servers run the newest SQL functions.
 */
export function checkOut(revision: string): Checkout {
  const commit = git('rev-parse', '--verify', '--end-of-options', `${revision}^{commit}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-against-'));
  git('worktree', 'add', '--detach', dir, commit);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    git('worktree', 'remove', '--force', dir);
  };
  // An interrupted run, or a failure from here on, still leaves no worktree behind.
  process.once('exit', remove);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return { dir, commit, remove };
}
