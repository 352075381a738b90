-- New key: every request carries a fresh Idempotency-Key (run nonce, thread, counter), so
-- every request is claimed, forwarded once and stored. Argument: a nonce unique to the run.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local headers = common.post_headers()
local prefix = ""
local counter = 0

setup = common.setup

function init(args)
    local nonce = args[1] or tostring(os.time())
    prefix = "nk-" .. nonce .. "-" .. tostring(thread_id or 0) .. "-"
end

function request()
    counter = counter + 1
    headers["Idempotency-Key"] = prefix .. counter
    return wrk.format("POST", nil, headers, common.body)
end

done = common.done
