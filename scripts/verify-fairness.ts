/**
 * Checks a sale's opening draw from what the service publishes, with nothing of the service's code:
 *
 *   npx tsx scripts/verify-fairness.ts <base-url> <event-id> [--seq N]
 *
 * 1. sha256(seed) must equal the commitment published before the opening (keep a copy of it then).
 * 2. Sorting the pre-queue's join numbers n by sha256(seed + ":" + n), as hex, ascending, must give
 *    exactly the published order.
 * With --seq N (your `joinNumber`, in every queue view), prints where
 * the draw put you. Exit code 0 when the draw checks out, 1 when it does not, 2 when it cannot be checked.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { seq: { type: 'string' }, commitment: { type: 'string' } } });
const [baseUrl, eventId] = positionals;
if (!baseUrl || !eventId) {
  console.error('usage: verify-fairness <base-url> <event-id> [--seq N] [--commitment <hex you saved before the opening>]');
  process.exit(2);
}

const response = await fetch(new URL(`/api/v1/events/${eventId}/fairness`, baseUrl));
if (!response.ok) {
  console.error(`GET fairness answered ${response.status}: ${await response.text()}`);
  process.exit(2);
}
const fairness = (await response.json()) as { commitment: string | null; seed: string | null; opened: boolean; prequeue: number[]; order: number[] };
if (!fairness.opened || !fairness.seed) {
  console.log(`not opened yet; commitment ${fairness.commitment ?? '(none scheduled)'}: save it and check again after the opening`);
  process.exit(2);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const problems: string[] = [];
if (sha256(fairness.seed) !== fairness.commitment) problems.push('sha256(seed) differs from the published commitment');
if (values.commitment && values.commitment !== fairness.commitment) problems.push('the commitment changed since you saved it');
const keyed = fairness.prequeue.map((n) => ({ n, key: sha256(`${fairness.seed}:${n}`) }));
const expected = keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ n }) => n);
if (JSON.stringify(expected) !== JSON.stringify(fairness.order)) problems.push('the published order is not the one the seed gives');

console.log(`pre-queue of ${fairness.prequeue.length}; seed ${fairness.seed}`);
if (values.seq !== undefined) {
  const place = expected.indexOf(Number(values.seq));
  console.log(place === -1 ? `join number ${values.seq} was not in the pre-queue` : `join number ${values.seq} was drawn to place ${place + 1}`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`FAILED: ${problem}`);
  process.exit(1);
}
console.log('the draw checks out: the order is the one the committed seed gives');
