-- Replay: the same key and body on every request. bench/run.sh sends the first request
-- with this key before the run, so every measured request is a replay. Argument: nonce.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.body = common.body
for name, value in pairs(common.post_headers()) do wrk.headers[name] = value end

function init(args)
    -- In place: wrk.headers already holds the Host header wrk derived from the URL.
    wrk.headers["Idempotency-Key"] = "rp-" .. (args[1] or "0")
end

done = common.done
