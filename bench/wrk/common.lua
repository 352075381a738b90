-- Shared by every benchmark script (bench/run.sh): the request shape and a done() that
-- prints one machine-readable line for bench/report.py. Latencies are in microseconds.
local common = {}

-- The request body, byte for byte the one bench/run.sh and redis_check.py send.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local file = assert(io.open(dir .. "body.json", "rb"))
common.body = file:read("*a")
file:close()

-- Headers of a POST as a client of the events API sends it.
function common.post_headers()
    return {
        ["Authorization"] = "Bearer bench",
        ["Content-Type"] = "application/json",
    }
end

-- Threads are numbered in setup() so that keys are unique per thread.
local next_thread_id = 0
function common.setup(thread)
    thread:set("thread_id", next_thread_id)
    next_thread_id = next_thread_id + 1
end

function common.done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end

return common
