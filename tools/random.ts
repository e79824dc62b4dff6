/** Seeded choices, so the service, the baseline and the test suite face the same "random" crowd. */

/** A small seeded generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * The seat each user of a hold storm goes for: the first 50 users cover the whole map in a random
 * order, the rest choose uniformly at random. The sequence is seeded, so every server faces the same
 * crowd, and every seat is someone's choice: exactly 50 holds is the only right outcome.
 */
export function stormSeats(users: number, seed = 4242): number[] {
  const random = seededRandom(seed);
  const all = Array.from({ length: 50 }, (_, i) => i + 1);
  const first = shuffled(all, random);
  return Array.from({ length: users }, (_, i) => (i < 50 ? first[i]! : 1 + Math.floor(random() * 50)));
}
