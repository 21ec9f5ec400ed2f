-- wrk script: GET …/accounts/{id}/balance of random accounts.
--   wrk -s balances.lua URL -- IDS_FILE TOKEN      (URL ends with /accounts)
local ids, token, base = {}, nil, nil

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(ids, line) end
  end
  token = args[2]
  base = wrk.path
  math.randomseed(os.time())
end

function request()
  local path = string.format("%s/%s/balance", base, ids[math.random(#ids)])
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
