"""The Lua script behind every Redis decision: :mod:`gateway.limits.window` in one atomic call.

``KEYS[i]`` holds ``"<window index> <current> <previous>"`` for rule ``i``;
``ARGV`` is ``cost, amount_1, window_ms_1, amount_2, window_ms_2, …``. The
clock is Redis's own (``TIME``), so every gateway instance sees the same
windows. The reply is ``{admitted, elapsed_ms_1, previous_1, current_1, …}``
with the counters after the decision.
"""

__all__ = ["SLIDING_WINDOW"]

SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local n = #KEYS
local idx, cur, prev, el = {}, {}, {}, {}
local admitted = 1
for i = 1, n do
  local amount = tonumber(ARGV[2 * i])
  local w = tonumber(ARGV[2 * i + 1])
  local index = math.floor(now / w)
  local c, p = 0, 0
  local raw = redis.call('GET', KEYS[i])
  if raw then
    local si, sc, sp = string.match(raw, '^(%d+) (%d+) (%d+)$')
    si = tonumber(si)
    if si == index then
      c, p = tonumber(sc), tonumber(sp)
    elseif si == index - 1 then
      p = tonumber(sc)
    end
  end
  local e = now - index * w
  if cost > 0 and p * (w - e) / w + c + cost > amount then
    admitted = 0
  end
  idx[i], cur[i], prev[i], el[i] = index, c, p, e
end
local out = {admitted}
for i = 1, n do
  if admitted == 1 and cost > 0 then
    local w = tonumber(ARGV[2 * i + 1])
    cur[i] = cur[i] + cost
    redis.call('SET', KEYS[i], string.format('%d %d %d', idx[i], cur[i], prev[i]), 'PX', 2 * w - el[i])
  end
  out[#out + 1] = el[i]
  out[#out + 1] = prev[i]
  out[#out + 1] = cur[i]
end
return out
"""
