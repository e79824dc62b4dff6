import { LUA_CLOCK } from '../../shared/redis.js';

/**
 * The Lua the waiting room's scripts share (waiting-room.redis-scripts.ts). Every script gets every key of
 * the line (linePrelude names them) and the line's lifetime as ARGV[1], then its own arguments.
 *
 * tickets: hash userId → ticket (the user's one live ticket, in the compact form below)
 * waiting: zset userId by place (the join seq; the shuffled pre-queue gets -n..-1, ahead of every seq)
 * active: zset userId by idle deadline · prequeue: zset userId by seq
 * rate: hash {window, used} · admitted: list of seqs in admission order (capped) · admitted-total: counter
 * seq: join counter · sold-out: the mark that closes the line (its own short expiry, never renewed here)
 * Scripts renew every key but the sold-out mark whenever they add an entry (a join, an admission, the
 * opening), so the line lives or goes as a whole. A holder's activity renews nothing: the line lasts a
 * token's lifetime plus a margin past its last join, so it outlives every token it issued, and no touch
 * can make a token live longer. The touch, which every poll and every buyer's request runs, so does
 * without the eight PEXPIREs it used to send.
 *
 * A waiter costs one hash entry and one zset entry. Their last poll lives in the ticket, not in a zset
 * of its own, and the ticket is `tokenId|seq|issuedAt|lifetime|seenAfter` with the numbers in base 36
 * and the last two relative to issuedAt: at most 44 bytes, one 48-byte allocation. That is what keeps
 * a line of a million under 300 bytes a waiter (docs/scaling.md › "A line of a million").
 */
export const linePrelude = `${LUA_CLOCK}
local tickets, waiting, active, rate, admitted, total, seq, prequeue, sold_out = unpack(KEYS)
local function renew_line()
  for i = 1, 8 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
local DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(n)
  n = math.max(0, math.floor(n))
  local s = ''
  repeat
    local d = n % 36
    s = string.sub(DIGITS, d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end
-- A ticket's fields: tokenId, seq, issuedAt, expiresAt, last seen (all but the first as numbers), or
-- nothing for a ticket in another form (one an older release wrote), which then reads as expired.
local function read_ticket(ticket)
  local token, n, issued, lifetime, seen = string.match(ticket, '^([^|]*)|(%w+)|(%w+)|(%w+)|(%w+)$')
  if not token then return nil end
  issued = tonumber(issued, 36)
  return token, tonumber(n, 36), issued, issued + tonumber(lifetime, 36), issued + tonumber(seen, 36)
end
local function write_ticket(token, n, issued, expires, seen)
  return token .. '|' .. b36(n) .. '|' .. b36(issued) .. '|' .. b36(expires - issued) .. '|' .. b36(seen - issued)
end
local function seq_and_seen(ticket)
  local _, n, _, _, seen = read_ticket(ticket)
  return n, seen
end
-- The ticket as the service reads it: tokenId|seq|issuedAt|expiresAt in decimal.
local function ticket_reply(ticket)
  local token, n, issued, expires = read_ticket(ticket)
  return token .. '|' .. n .. '|' .. issued .. '|' .. expires
end
-- Records a waiter's poll in their ticket (never moving it back). Only the last field changes, so only it
-- is encoded anew: Lua makes a string per base-36 digit, and re-encoding all four numbers took about a
-- third of a waiter's poll in Redis.
local function mark_seen(user, ticket, now)
  local _, _, issued, _, seen = read_ticket(ticket)
  if now > seen then redis.call('HSET', tickets, user, string.match(ticket, '^(.*|)') .. b36(now - issued)) end
end
`;

/**
 * One admission step as a function, so a join runs the step it triggers in the same script.
 * Answers {admitted users, dropped, admitted total, opening due (1/0)}.
 */
export const ADMISSION_STEP = `
-- How many the line may let in now, with the rate window and its use so far.
local function room(now, max_active, per_second)
  local window = math.floor(now / 1000)
  local state = redis.call('HMGET', rate, 'window', 'used')
  local used = 0
  if tonumber(state[1]) == window then used = tonumber(state[2]) end
  -- Rule: capacity and the admission rate. Never more active than max_active, never more per second than per_second.
  local n = math.min(max_active - redis.call('ZCARD', active), per_second - used)
  return math.max(n, 0), window, used
end
-- Lets one user in: active until idle past the TTL, their join number next in the admission log.
-- Answers the log's length.
local function activate(user, join_seq, now, active_ttl)
  redis.call('ZADD', active, now + active_ttl, user)
  return redis.call('RPUSH', admitted, join_seq)
end
-- Counts the admissions just made in the rate window and the log (trimmed only once past its limit,
-- which the last push's length tells); answers the admitted total.
local function record_admissions(count, logged, window, used, log_limit)
  redis.call('HSET', rate, 'window', window, 'used', used + count)
  if logged > log_limit then redis.call('LTRIM', admitted, -log_limit, -1) end
  return redis.call('INCRBY', total, count)
end
local function admit_step(now, max_active, per_second, active_ttl, grace, log_limit, opens_at, paused, caller_renews)
  local dropped = 0
  -- Rule: the line moves. Actives idle past their TTL leave it; so do waiters who stopped polling, once they reach its head.
  for _, user in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, 1000)) do
    redis.call('ZREM', active, user)
    redis.call('HDEL', tickets, user)
    dropped = dropped + 1
  end
  local admitted_total = tonumber(redis.call('GET', total) or 0)
  if opens_at ~= '' and now < tonumber(opens_at) then return {{}, dropped, admitted_total, 0} end
  -- Rule: the shuffled pre-queue goes first. Until it is placed nobody is admitted.
  if redis.call('EXISTS', prequeue) == 1 then return {{}, dropped, admitted_total, 1} end
  if redis.call('EXISTS', sold_out) == 1 then return {{}, dropped, admitted_total, 0} end
  local n, window, used = room(now, max_active, per_second)
  if paused then n = 0 end
  -- Rule: FIFO admission. The head of the line, in its order; the silent at the head leave instead.
  local head, logged = {}, 0
  local walked, limit = 0, n + 1000
  while walked < limit do
    local batch = redis.call('ZRANGE', waiting, 0, math.max(n - #head, 1) - 1)
    if #batch == 0 then break end
    local full = false
    for _, user in ipairs(batch) do
      walked = walked + 1
      local ticket = redis.call('HGET', tickets, user)
      local join_seq, seen
      if ticket then join_seq, seen = seq_and_seen(ticket) end
      if not seen or seen <= now - grace then
        redis.call('ZREM', waiting, user)
        redis.call('HDEL', tickets, user)
        dropped = dropped + 1
      elseif #head < n then
        redis.call('ZREM', waiting, user)
        logged = activate(user, join_seq, now, active_ttl)
        head[#head + 1] = user
      else
        full = true
        break
      end
    end
    if full then break end
  end
  if #head > 0 then
    admitted_total = record_admissions(#head, logged, window, used, log_limit)
    -- Only admitting adds entries (and may create keys); a step that merely drops or idles keeps the
    -- expiry as it is, so the scheduler alone never keeps a forgotten line alive. A join renews once, after its step.
    if not caller_renews then renew_line() end
  end
  return {head, dropped, admitted_total, 0}
end
`;
