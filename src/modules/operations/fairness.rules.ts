import { createHash, randomBytes } from 'node:crypto';

/**
 * The pre-queue draw, verifiable by anyone. The seed is 32 random bytes written as 64 hex digits. Before
 * the opening only its commitment, sha256(seed as text), is published; after it, the seed itself. The
 * order: every pre-queue join sequence number n gets the key sha256(`${seed}:${n}`) (hex), and the line
 * is those numbers sorted by key. Given the seed, each key is fixed and unpredictable before the
 * commitment is opened, so the order is a uniformly random permutation the operator cannot steer, and
 * anyone can recompute it (scripts/verify-fairness.ts does, with no code of this service).
 */
export const FAIRNESS_ALGORITHM = 'sort pre-queue join numbers n by sha256(seed + ":" + n) as hex, ascending; commitment = sha256(seed)';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const drawSeed = (): string => randomBytes(32).toString('hex');

export const commitmentOf = (seed: string): string => sha256(seed);

/** The pre-queue's join numbers in the order the draw places them. */
export function drawOrder(seed: string, seqs: readonly number[]): number[] {
  const keyed = seqs.map((seq) => ({ seq, key: sha256(`${seed}:${seq}`) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.seq - b.seq));
  return keyed.map(({ seq }) => seq);
}
