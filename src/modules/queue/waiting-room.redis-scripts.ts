import { ADMISSION_STEP } from './waiting-room.redis-lua.js';

// The waiting room's Lua scripts (used by waiting-room.redis.ts). Each runs after linePrelude, and the ones
// that admit include ADMISSION_STEP (both in waiting-room.redis-lua.ts).

/**
 * A join in one round trip. KEYS[10] counts the user's joins of this line (ARGV[7] per ARGV[8] ms; '' for
 * no limit). A new entry runs the admission step it triggers (ARGV[9] = '1', policy in ARGV[10..15]).
 * With nobody ahead and room in the line that step could only let in the joiner, so the joiner goes
 * straight in: a third fewer commands for every join while a line has room (the opening rush, a quiet
 * sale), and the same answer. Idle actives are then left for the scheduler's step to clear, as they
 * take no room that anyone is waiting for.
 * Answers {1 created | 0 handed back | -1 sold out | -2 limited, ticket (or ms to wait), the joiner's
 * state (as TOUCH answers it), then the step: admitted users, dropped, admitted total, opening due}.
 */
export const JOIN_LUA = `${ADMISSION_STEP}
local user, now, opens_at = ARGV[2], clock(ARGV[5]), ARGV[6]
if ARGV[7] ~= '' then
  local count = redis.call('INCR', KEYS[10])
  if count == 1 then redis.call('PEXPIRE', KEYS[10], ARGV[8]) end
  if count > tonumber(ARGV[7]) then return {-2, tostring(redis.call('PTTL', KEYS[10]))} end
end
if redis.call('EXISTS', sold_out) == 1 then return {-1, ''} end
local active_ttl = tonumber(ARGV[12])
-- Rule: one live queue token per user and event. A live ticket is handed back, never a second one.
local current = redis.call('HGET', tickets, user)
if current then
  local _, _, _, expires = read_ticket(current)
  local deadline = redis.call('ZSCORE', active, user)
  local waits = redis.call('ZSCORE', waiting, user) or redis.call('ZSCORE', prequeue, user)
  local live = (deadline and tonumber(deadline) > now) or waits
  if live and expires and expires > now then
    -- Asking again counts as the holder's activity, like a poll.
    local state = -3
    if deadline and tonumber(deadline) > now then
      redis.call('ZADD', active, 'GT', now + active_ttl, user)
      state = 0
    else
      local rank = redis.call('ZRANK', waiting, user)
      if rank then state = rank + 1 end
      mark_seen(user, current, now)
    end
    renew_line()
    return {0, ticket_reply(current), state, {}, 0, 0, 0}
  end
  redis.call('ZREM', active, user)
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', prequeue, user)
end
local n = redis.call('INCR', seq)
local ticket = write_ticket(ARGV[3], n, now, now + tonumber(ARGV[4]), now)
redis.call('HSET', tickets, user, ticket)
local step, let_in = {{}, 0, 0, 0}, false
local admits, paused = ARGV[9] == '1', ARGV[15] == '1'
local max_active, per_second, log_limit = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[14])
-- Rule: before the opening nobody has a place: joins wait in the pre-queue for the draw.
if opens_at ~= '' and now < tonumber(opens_at) then
  redis.call('ZADD', prequeue, n, user)
else
  if admits and not paused and redis.call('EXISTS', waiting, prequeue) == 0 then
    -- Nobody ahead: the step would let in this joiner alone if the line has room, so the line is not walked.
    local room_left, window, used = room(now, max_active, per_second)
    if room_left > 0 then
      local logged = activate(user, n, now, active_ttl)
      step, let_in = {{user}, 0, record_admissions(1, logged, window, used, log_limit), 0}, true
    end
  end
  if not let_in then
    redis.call('ZADD', waiting, n, user)
    if admits then step = admit_step(now, max_active, per_second, active_ttl, tonumber(ARGV[13]), log_limit, opens_at, paused, true) end
  end
end
-- After the step: it may have created keys (the first admission) that need the line's expiry too.
renew_line()
local state = -3
if let_in or redis.call('ZSCORE', active, user) then
  state = 0
else
  local rank = redis.call('ZRANK', waiting, user)
  if rank then state = rank + 1 end
end
return {1, ticket_reply(ticket), state, step[1], step[2], step[3], step[4]}
`;

/** Answers per entry: -1 expired, -2 sold out, -3 in the pre-queue, 0 active, n > 0 waiting at position n. */
export const TOUCH_LUA = `
local now, active_ttl = clock(ARGV[2]), tonumber(ARGV[3])
local closed = redis.call('EXISTS', sold_out) == 1
local result = {}
for i = 4, #ARGV, 2 do
  local user, token = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', tickets, user)
  local answer = -1
  if current and read_ticket(current) == token then
    local deadline = redis.call('ZSCORE', active, user)
    if deadline then
      if tonumber(deadline) > now then
        redis.call('ZADD', active, 'GT', now + active_ttl, user)
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
      if answer ~= -1 then mark_seen(user, current, now) end
    end
  end
  result[#result + 1] = answer
end
return result
`;

/** ARGV[2..9]: now, max active, per second, active TTL, grace, admission log limit, opening, paused (1/0). */
export const ADMIT_LUA = `${ADMISSION_STEP}
return admit_step(clock(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9] == '1', false)
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
redis.call('UNLINK', waiting, prequeue)
return 1
`;

export const REOPEN_LUA = `
return redis.call('DEL', sold_out)
`;

/** ARGV[2..3]: the entry. ARGV[4] = '1' runs the admission step after it (ARGV[5..12] as ADMIT_LUA's ARGV[2..9]) and answers it. */
export const COMPLETE_LUA = `${ADMISSION_STEP}
local user = ARGV[2]
local current = redis.call('HGET', tickets, user)
if current and read_ticket(current) == ARGV[3] then
  redis.call('HDEL', tickets, user)
  redis.call('ZREM', active, user)
  redis.call('ZREM', waiting, user)
  redis.call('ZREM', prequeue, user)
end
if ARGV[4] ~= '1' then return false end
return admit_step(clock(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11], ARGV[12] == '1', false)
`;
