import { LUA_CLOCK } from '../../shared/redis.js';

/**
 * The waiting room's Lua scripts (used by waiting-room.redis.ts). Every script gets every key of the line
 * (linePrelude names them) and the line's lifetime as ARGV[1], then its own arguments.
 *
 * tickets: hash userId → "tokenId|seq|issuedAt|expiresAt" (the user's one live ticket)
 * waiting: zset userId by place (the join seq; the shuffled pre-queue gets -n..-1, ahead of every seq)
 * seen: zset userId by last poll · active: zset userId by idle deadline · prequeue: zset userId by seq
 * rate: hash {window, used} · admitted: list of seqs in admission order (capped) · admitted-total: counter
 * seq: join counter · sold-out: the mark that closes the line (its own short expiry, never renewed here)
 * Scripts renew every key but the sold-out mark whenever they add or refresh an entry, so the line lives
 * or goes as a whole.
 */
export const linePrelude = `${LUA_CLOCK}
local tickets, waiting, seen, active, rate, admitted, total, seq, prequeue, sold_out = unpack(KEYS)
local function renew_line()
  for i = 1, 9 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
local function seq_of(ticket)
  return tonumber(string.match(ticket, '^[^|]+|(%d+)|'))
end
`;

export const JOIN_LUA = `
if redis.call('EXISTS', sold_out) == 1 then return {-1, ''} end
-- Rule: one live queue token per user and event. A live ticket is handed back, never a second one.
local user, now, opens_at = ARGV[2], clock(ARGV[5]), ARGV[6]
local current = redis.call('HGET', tickets, user)
if current then
  local deadline = redis.call('ZSCORE', active, user)
  local live = (deadline and tonumber(deadline) > now) or redis.call('ZSCORE', waiting, user) or redis.call('ZSCORE', prequeue, user)
  if live and tonumber(string.match(current, '|(%d+)$')) > now then
    return {0, current}
  end
  redis.call('ZREM', active, user)
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', prequeue, user)
  redis.call('ZREM', seen, user)
end
local n = redis.call('INCR', seq)
local ticket = ARGV[3] .. '|' .. n .. '|' .. now .. '|' .. (now + tonumber(ARGV[4]))
redis.call('HSET', tickets, user, ticket)
-- Rule: before the opening nobody has a place: joins wait in the pre-queue for the draw.
if opens_at ~= '' and now < tonumber(opens_at) then
  redis.call('ZADD', prequeue, n, user)
else
  redis.call('ZADD', waiting, n, user)
end
redis.call('ZADD', seen, now, user)
renew_line()
return {1, ticket}
`;

/** Answers per entry: -1 expired, -2 sold out, -3 in the pre-queue, 0 active, n > 0 waiting at position n. */
export const TOUCH_LUA = `
local now, active_ttl = clock(ARGV[2]), tonumber(ARGV[3])
local closed = redis.call('EXISTS', sold_out) == 1
local result = {}
local wrote = false
for i = 4, #ARGV, 2 do
  local user, token = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', tickets, user)
  local answer = -1
  if current and string.match(current, '^([^|]+)') == token then
    local deadline = redis.call('ZSCORE', active, user)
    if deadline then
      if tonumber(deadline) > now then
        redis.call('ZADD', active, 'GT', now + active_ttl, user)
        wrote = true
        answer = 0
      end
    elseif closed then
      answer = -2
    else
      local rank = redis.call('ZRANK', waiting, user)
      if rank then
        answer = rank + 1
      elseif redis.call('ZSCORE', prequeue, user) then
        answer = -3
      end
      if answer ~= -1 then
        redis.call('ZADD', seen, 'XX', 'GT', now, user)
        wrote = true
      end
    end
  end
  result[#result + 1] = answer
end
if wrote then renew_line() end
return result
`;

export const ADMIT_LUA = `
local now, max_active, per_second = clock(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local active_ttl, grace, log_limit = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local opens_at, paused = ARGV[8], ARGV[9] == '1'
local dropped = 0
-- Rule: the line moves. Actives idle past their TTL and waiters who stopped polling leave it.
for _, user in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', active, user)
  redis.call('HDEL', tickets, user)
  dropped = dropped + 1
end
for _, user in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - grace, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', prequeue, user)
  redis.call('ZREM', seen, user)
  redis.call('HDEL', tickets, user)
  dropped = dropped + 1
end
local admitted_total = tonumber(redis.call('GET', total) or 0)
if opens_at ~= '' and now < tonumber(opens_at) then return {{}, dropped, admitted_total, 0} end
-- Rule: the shuffled pre-queue goes first. Until it is placed nobody is admitted.
if redis.call('EXISTS', prequeue) == 1 then return {{}, dropped, admitted_total, 1} end
if paused or redis.call('EXISTS', sold_out) == 1 then return {{}, dropped, admitted_total, 0} end
local window = math.floor(now / 1000)
local state = redis.call('HMGET', rate, 'window', 'used')
local used = 0
if tonumber(state[1]) == window then used = tonumber(state[2]) end
-- Rule: capacity and the admission rate. Never more active than max_active, never more per second than per_second.
local n = math.min(max_active - redis.call('ZCARD', active), per_second - used)
if n <= 0 then return {{}, dropped, admitted_total, 0} end
-- Rule: FIFO admission. The head of the line, in its order.
local head = redis.call('ZRANGE', waiting, 0, n - 1)
for _, user in ipairs(head) do
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', seen, user)
  redis.call('ZADD', active, now + active_ttl, user)
  redis.call('RPUSH', admitted, seq_of(redis.call('HGET', tickets, user)))
end
if #head > 0 then
  redis.call('HSET', rate, 'window', window, 'used', used + #head)
  redis.call('LTRIM', admitted, -log_limit, -1)
  admitted_total = redis.call('INCRBY', total, #head)
  -- Only admitting adds entries (and may create keys); a step that merely drops or idles keeps the
  -- expiry as it is, so the scheduler alone never keeps a forgotten line alive.
  renew_line()
end
return {head, dropped, admitted_total, 0}
`;

/** ARGV[2]: the opening (epoch ms); ARGV[3]: pinned time. Nil before the opening, else user, seq, … */
export const PREQUEUE_LUA = `
if clock(ARGV[3]) < tonumber(ARGV[2]) then return false end
return redis.call('ZRANGE', prequeue, 0, -1, 'WITHSCORES')
`;

/** ARGV[2..]: join seqs in drawn order. Places each at -n..-1; anyone the order misses keeps their seq. */
export const OPEN_LUA = `
if redis.call('EXISTS', prequeue) == 0 then return 0 end
local user_of = {}
local members = redis.call('ZRANGE', prequeue, 0, -1, 'WITHSCORES')
for i = 1, #members, 2 do user_of[members[i + 1]] = members[i] end
local count = #ARGV - 1
for i = 2, #ARGV do
  local user = user_of[ARGV[i]]
  if user then
    redis.call('ZADD', waiting, i - 2 - count, user)
    user_of[ARGV[i]] = nil
  end
end
for s, user in pairs(user_of) do redis.call('ZADD', waiting, tonumber(s), user) end
redis.call('DEL', prequeue)
renew_line()
return 1
`;

/**
 * ARGV[2]: how long the mark lasts. The waiters' zsets go at once (UNLINK frees them off the main
 * thread), so closing costs the same for ten waiters or a million; their tickets stay and read SOLD_OUT.
 */
export const CLOSE_SOLD_OUT_LUA = `
-- Rule: a sold-out line closes in O(1).
if redis.call('SET', sold_out, '1', 'PX', ARGV[2], 'GET') then return 0 end
redis.call('UNLINK', waiting, seen, prequeue)
return 1
`;

export const REOPEN_LUA = `
return redis.call('DEL', sold_out)
`;

export const COMPLETE_LUA = `
local user = ARGV[2]
local current = redis.call('HGET', tickets, user)
if not current or string.match(current, '^([^|]+)') ~= ARGV[3] then return 0 end
redis.call('HDEL', tickets, user)
redis.call('ZREM', active, user)
redis.call('ZREM', waiting, user)
redis.call('ZREM', prequeue, user)
redis.call('ZREM', seen, user)
return 1
`;
