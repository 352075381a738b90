-- Passthrough: a GET (never protected, forwarded untouched).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer bench"
done = common.done
