-- wrk script: POST …/transfers between random accounts, each with its own Idempotency-Key.
--   wrk -s transfers.lua URL -- IDS_FILE TOKEN [HOT_ACCOUNT_ID]
-- IDS_FILE holds one account id per line; with HOT_ACCOUNT_ID every transfer credits it.
local ids, token, hot = {}, nil, nil
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
  hot = args[3]
  thread_id = thread_id or 0
  math.randomseed(os.time() * 1000 + thread_id)
end

local function key()
  counter = counter + 1
  return string.format("bench-%d-%d-%08x%08x", thread_id, counter,
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

function request()
  local debit = ids[math.random(#ids)]
  local credit = hot
  if credit == nil then
    repeat credit = ids[math.random(#ids)] until credit ~= debit
  end
  local body = string.format(
    '{"debit_account_id": "%s", "credit_account_id": "%s", "amount": 1, "description": "bench"}',
    debit, credit)
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key(),
  }, body)
end
