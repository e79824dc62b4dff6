/**
 * Time is a port for two reasons. Every instance must agree on it: decisions about time are made by the
 * stores' own clocks (PostgreSQL `now()` for holds, payments and keys; Redis `TIME` inside the scripts
 * for the line and the seat locks), never by an instance's wall clock. And tests must move it without
 * sleeping: a test clock pins the time the stores use.
 */
export interface Clock {
  /**
   * This instance's reading of the shared time, for what is not decided in a store: token lifetimes,
   * ETAs, which lines to visit. Corrected to the stores' clock, so a skewed host does not skew it.
   */
  now(): Date;
  /**
   * The time the stores must decide with, or null to let each store's own clock decide (production).
   * SQL takes it as `:now` in `coalesce(:now, now())`, the Redis scripts as "ARGV, else TIME".
   */
  pinned(): Date | null;
}
