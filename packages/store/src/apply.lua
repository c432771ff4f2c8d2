-- Applies a batch of tweets to one broker path, each id at most once, atomically
-- (a script runs whole or not at all, so no tweet is ever half counted).
-- KEYS: 1 weather totals, 2 total, 3 recent, 4 tput, 5 tput index,
--       6-9 counts(municipality 1-4), 10-13 agg(municipality 1-4),
--       14.. seen key of each tweet, in batch order
-- ARGV: 1 recent cap, 2 unix second, 3 tput window (seconds), 4 seen ttl (seconds),
--       then five per tweet: municipality number (1-4), weather, temperature,
--       humidity, recent json (empty for a tweet too old in the batch to stay in recent)
-- Returns one integer per tweet: 1 applied, 0 already applied (on this path).
local FIXED = 13
local n = #KEYS - FIXED
local cap = tonumber(ARGV[1])
local ttl = ARGV[4]
local result = {}
local applied = 0
local counts = {{}, {}, {}, {}}
local agg = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}}
local weather = {}
local recent = {}
for i = 1, n do
  local a = 4 + (i - 1) * 5
  if redis.call('SET', KEYS[FIXED + i], '1', 'NX', 'EX', ttl) then
    local m = tonumber(ARGV[a + 1])
    local w = ARGV[a + 2]
    counts[m][w] = (counts[m][w] or 0) + 1
    weather[w] = (weather[w] or 0) + 1
    local g = agg[m]
    g[1] = g[1] + 1
    g[2] = g[2] + tonumber(ARGV[a + 3])
    g[3] = g[3] + tonumber(ARGV[a + 4])
    local json = ARGV[a + 5]
    if json ~= '' then
      recent[#recent + 1] = json
    end
    applied = applied + 1
    result[i] = 1
  else
    result[i] = 0
  end
end
if applied == 0 then
  return result
end
for m = 1, 4 do
  for w, k in pairs(counts[m]) do
    redis.call('HINCRBY', KEYS[5 + m], w, k)
  end
  local g = agg[m]
  if g[1] > 0 then
    redis.call('HINCRBY', KEYS[9 + m], 'n', g[1])
    redis.call('HINCRBY', KEYS[9 + m], 'temperature_sum', g[2])
    redis.call('HINCRBY', KEYS[9 + m], 'humidity_sum', g[3])
  end
end
for w, k in pairs(weather) do
  redis.call('HINCRBY', KEYS[1], w, k)
end
redis.call('INCRBY', KEYS[2], applied)
-- Only the newest `cap` matter; LPUSH leaves the last pushed first.
if #recent > 0 then
  local from = math.max(1, #recent - cap + 1)
  redis.call('LPUSH', KEYS[3], unpack(recent, from, #recent))
  redis.call('LTRIM', KEYS[3], 0, cap - 1)
end
local sec = ARGV[2]
if redis.call('HINCRBY', KEYS[4], sec, applied) == applied then
  -- A new second: index it, and drop the seconds that left the window.
  local s = tonumber(sec)
  redis.call('ZADD', KEYS[5], s, sec)
  local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. (s - tonumber(ARGV[3])))
  if #old > 0 then
    redis.call('HDEL', KEYS[4], unpack(old))
    redis.call('ZREM', KEYS[5], unpack(old))
  end
end
return result
