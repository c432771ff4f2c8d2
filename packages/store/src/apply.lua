-- Applies one tweet to one broker path, at most once per id, atomically.
-- KEYS: seen, counts(municipality), weather totals, total, agg(municipality),
--       recent, tput, tput index
-- ARGV: weather, temperature, humidity, recent json, recent cap,
--       unix second, tput window (seconds), seen ttl (seconds)
-- Returns 1 when applied, 0 when this id was already applied.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[8]) then
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('INCR', KEYS[4])
redis.call('HINCRBY', KEYS[5], 'n', 1)
redis.call('HINCRBY', KEYS[5], 'temperature_sum', ARGV[2])
redis.call('HINCRBY', KEYS[5], 'humidity_sum', ARGV[3])
redis.call('LPUSH', KEYS[6], ARGV[4])
redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[5]) - 1)
if redis.call('HINCRBY', KEYS[7], ARGV[6], 1) == 1 then
  local sec = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[8], sec, ARGV[6])
  local old = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', '(' .. (sec - tonumber(ARGV[7])))
  if #old > 0 then
    redis.call('HDEL', KEYS[7], unpack(old))
    redis.call('ZREM', KEYS[8], unpack(old))
  end
end
return 1
