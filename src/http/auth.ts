import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { assertBuyerFor, type Buyer } from '../modules/queue/buyer.js';
import { AppError } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `user` guard: the user the bearer token proves. */
    userId: string | null;
    /** Set by the `buyer` and `admittedToken` guards: an admitted buyer for one event. */
    buyer: Buyer | null;
    /** The bearer's user once its token verified, whoever asked first (the rate limiter or a guard). */
    bearerUser: string | null;
  }
}

/** Who a bearer token belongs to (the users module). */
export interface Authenticator {
  authenticate(authorization: string | undefined): string;
}

/** Whether a queue token is admitted (the queue module); each check counts as the holder's activity. */
export interface Admission {
  authorize(token: string | undefined, userId: string): Promise<Buyer>;
  authorizeToken(token: string | undefined): Promise<Buyer>;
}

/** The event a request is about, for the guards to hold the queue token against. */
export type EventOf = (request: FastifyRequest) => Promise<string>;

/**
 * Rule: only an admitted buyer buys, with their own token, for its event. The one place that decides who may call what: routes list guards as preHandlers, guards put the
 * caller on the request, handlers pass that value to services. They run after schema validation, so a
 * malformed request is a 400 whoever sends it.
 */
export interface Guards {
  /** A valid bearer token. */
  user: preHandlerAsyncHookHandler;
  /**
   * The bearer's user when the token verifies, else undefined; refuses nothing. For a route that answers
   * a signed-in caller before its guards run (the hold's fast refusal of a taken seat), never to authorize.
   */
  signedIn(request: FastifyRequest): string | undefined;
  /** A valid bearer token and the same user's admitted queue token, for `eventOf`'s event when given. */
  buyer(eventOf?: EventOf): preHandlerAsyncHookHandler;
  /** An admitted queue token alone (it is signed for one user and event): reads such as the seat map. */
  admittedToken(eventOf: EventOf): preHandlerAsyncHookHandler;
  /** `X-Admin-Key`, compared in constant time. */
  admin: preHandlerAsyncHookHandler;
}

/** The bearer's user, verified once per request: the rate limiter and the guards both ask. */
export function authenticatedUser(request: FastifyRequest, users: Authenticator): string {
  return (request.bearerUser ??= users.authenticate(request.headers.authorization));
}

/** The bearer's user when its token verifies, else undefined: refuses nothing, so never to authorize. */
export function signedInUser(request: FastifyRequest, users: Authenticator): string | undefined {
  try {
    return authenticatedUser(request, users);
  } catch {
    return undefined;
  }
}

/** The raw queue token of a request: the header, or `?token=` for EventSource, which cannot set headers. */
export function queueTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-queue-token'];
  if (typeof header === 'string' && header.length > 0) return header;
  const query = request.query as { token?: unknown } | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createGuards(app: FastifyInstance, deps: { users: Authenticator; queue: Admission; adminKey: string }): Guards {
  app.decorateRequest('userId', null);
  app.decorateRequest('buyer', null);
  app.decorateRequest('bearerUser', null);
  const { users, queue, adminKey } = deps;
  const admitted = async (request: FastifyRequest, buyer: Buyer, eventOf: EventOf | undefined) => {
    if (eventOf) assertBuyerFor(buyer, await eventOf(request));
    request.buyer = buyer;
  };
  return {
    user: async (request) => {
      request.userId = authenticatedUser(request, users);
    },
    signedIn: (request) => signedInUser(request, users),
    buyer: (eventOf) => async (request) => {
      const userId = authenticatedUser(request, users);
      request.userId = userId;
      await admitted(request, await queue.authorize(queueTokenOf(request), userId), eventOf);
    },
    admittedToken: (eventOf) => async (request) => {
      await admitted(request, await queue.authorizeToken(queueTokenOf(request)), eventOf);
    },
    admin: async (request) => {
      const given = request.headers['x-admin-key'];
      if (typeof given !== 'string' || !timingSafeEqual(digest(given), digest(adminKey))) {
        throw new AppError('FORBIDDEN', 'A valid X-Admin-Key header is required.');
      }
    },
  };
}

/** The user a guard put on the request; a route that forgot its guard fails loudly, not open. */
export function userOf(request: FastifyRequest): string {
  if (request.userId === null) throw new Error(`route ${request.routeOptions.url} reads the user without the user guard`);
  return request.userId;
}

export function buyerOf(request: FastifyRequest): Buyer {
  if (request.buyer === null) throw new Error(`route ${request.routeOptions.url} reads the buyer without a buyer guard`);
  return request.buyer;
}
