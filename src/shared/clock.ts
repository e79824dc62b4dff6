/** Time is a port so that holds and queue expiry can be tested without sleeping. */
export interface Clock {
  now(): Date;
}
