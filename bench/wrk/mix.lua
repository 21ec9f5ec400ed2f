-- wrk script: one kind of request of the everyday mix, drawn from a file of prepared requests.
--   wrk -s mix.lua URL -- REQUESTS_FILE [once]
-- One request per line: METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>COOKIE<TAB>BODY (empty: none).
-- Lines are drawn at random; with "once" each line is sent once, in order (run it with one
-- thread), for requests that cannot be repeated, such as confirming an exchange.
local lines, once, sent, counter = {}, false, 0, 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
      table.insert(lines, fields)
    end
  end
  once = args[2] == "once"
  thread_id = thread_id or 0
  -- Each thread's own sequence: keys must never repeat across threads (a repeated
  -- Idempotency-Key in flight answers 409 idempotency_in_flight).
  math.randomseed(os.time() * 1000 + thread_id)
end

local function key()
  counter = counter + 1
  return string.format("mix-%d-%d-%08x%08x", thread_id, counter,
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

function request()
  local fields
  if once then
    sent = sent + 1
    fields = lines[(sent - 1) % #lines + 1]
  else
    fields = lines[math.random(#lines)]
  end
  local method, path, authorization, cookie, body = fields[1], fields[2], fields[3], fields[4], fields[5]
  local headers = {}
  if #authorization > 0 then headers["Authorization"] = authorization end
  if #cookie > 0 then headers["Cookie"] = cookie end
  if method == "POST" then
    headers["Idempotency-Key"] = key()
    if #body > 0 then headers["Content-Type"] = "application/json" else body = nil end
  else
    body = nil
  end
  return wrk.format(method, path, headers, body)
end
