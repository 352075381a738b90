-- Passthrough: a POST without Idempotency-Key (forwarded untouched by idemgate).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.body = common.body
for name, value in pairs(common.post_headers()) do wrk.headers[name] = value end
done = common.done
