-- wrk script: POST …/transfers:batch, N transfers between random accounts per request, each
-- item with its own idempotency key.
--   wrk -s batch.lua URL -- IDS_FILE TOKEN [N]      (N defaults to 100)
local ids, token, size = {}, nil, 100
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(ids, line) end
  end
  token = args[2]
  size = tonumber(args[3] or "100")
  thread_id = thread_id or 0
  math.randomseed(os.time() * 1000 + thread_id)
end

local function item()
  counter = counter + 1
  local debit = ids[math.random(#ids)]
  local credit
  repeat credit = ids[math.random(#ids)] until credit ~= debit
  return string.format(
    '{"debit_account_id": "%s", "credit_account_id": "%s", "amount": 1,'
      .. ' "description": "bench", "idempotency_key": "bench-%d-%d-%08x"}',
    debit, credit, thread_id, counter, math.random(0, 0x7fffffff))
end

function request()
  local items = {}
  for i = 1, size do items[i] = item() end
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, '{"items": [' .. table.concat(items, ",") .. ']}')
end
