-- Applies a batch of items to one broker path, each id at most once within the
-- dedup window, atomically (a script runs whole or not at all, so no item is
-- ever half counted). The domain's shape comes in the arguments: G groups,
-- S summed fields; so does the window's: B seen buckets, the current first.
-- KEYS: 1 totals per counted value, 2 total, 3 recent,
--       then G counts keys (one per group), then G agg keys (one per group),
--       then B seen buckets (sets of ids), the current one first
-- ARGV: 1 recent cap, 2 seconds until the current bucket expires, 3 G, 4 S, 5 B,
--       6 .. 5+S the agg field of each sum,
--       then 4+S per item: id, group number (1..G), counted value, S summed values,
--       recent json (empty for an item too old in the batch to stay in recent)
-- Returns one integer per item: 1 applied, 0 already applied (on this path).
local cap = tonumber(ARGV[1])
local expireIn = ARGV[2]
local G = tonumber(ARGV[3])
local S = tonumber(ARGV[4])
local B = tonumber(ARGV[5])
local SEEN = 3 + 2 * G
local first = 6 + S
local per = 4 + S
local n = (#ARGV - first + 1) / per
local result = {}
local applied = 0
local counts = {}
local agg = {}
for g = 1, G do
  counts[g] = {}
  local a = {0}
  for s = 1, S do a[1 + s] = 0 end
  agg[g] = a
end
local totals = {}
local recent = {}
for i = 1, n do
  local a = first + (i - 1) * per
  local id = ARGV[a]
  local seen = false
  for b = 1, B do
    if redis.call('SISMEMBER', KEYS[SEEN + b], id) == 1 then
      seen = true
      break
    end
  end
  if seen then
    result[i] = 0
  else
    redis.call('SADD', KEYS[SEEN + 1], id)
    local g = tonumber(ARGV[a + 1])
    local c = ARGV[a + 2]
    counts[g][c] = (counts[g][c] or 0) + 1
    totals[c] = (totals[c] or 0) + 1
    local ag = agg[g]
    ag[1] = ag[1] + 1
    for s = 1, S do ag[1 + s] = ag[1 + s] + tonumber(ARGV[a + 2 + s]) end
    local json = ARGV[a + 3 + S]
    if json ~= '' then
      recent[#recent + 1] = json
    end
    applied = applied + 1
    result[i] = 1
  end
end
if applied == 0 then
  return result
end
redis.call('EXPIRE', KEYS[SEEN + 1], expireIn)
for g = 1, G do
  for c, k in pairs(counts[g]) do
    redis.call('HINCRBY', KEYS[3 + g], c, k)
  end
  local ag = agg[g]
  if ag[1] > 0 then
    redis.call('HINCRBY', KEYS[3 + G + g], 'n', ag[1])
    for s = 1, S do redis.call('HINCRBY', KEYS[3 + G + g], ARGV[5 + s], ag[1 + s]) end
  end
end
for c, k in pairs(totals) do
  redis.call('HINCRBY', KEYS[1], c, k)
end
redis.call('INCRBY', KEYS[2], applied)
-- Only the newest `cap` matter; LPUSH leaves the last pushed first.
if #recent > 0 then
  local from = math.max(1, #recent - cap + 1)
  redis.call('LPUSH', KEYS[3], unpack(recent, from, #recent))
  redis.call('LTRIM', KEYS[3], 0, cap - 1)
end
return result
