"""The complete script alone: the hash layout's (main before issue 14) against the string
layout's, in one redis-server (docs/benchmarks.md "One-command claim").

    python3 bench/complete_script_micro.py PORT [N [ROUNDS]]

On a redis-server of its own at 127.0.0.1:PORT (it runs FLUSHALL and CONFIG RESETSTAT):
writes N in-progress records of a layout, pipelines N completes of them (each must answer 1),
and reads commandstats usec_per_call of EVALSHA (the script with its inner commands, without
the event loop); the layouts alternate over ROUNDS; prints the medians. --floor compares
against a script that only returns 1 instead of the string layout's complete.
"""
import os
import re
import socket
import statistics
import sys

port = int(sys.argv[1])
A_complete = """
local v = redis.call('HMGET', KEYS[1], 'st', 'ow', 'cr')
if v[1] ~= 'p' or v[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'c', 'rs', ARGV[2])
redis.call('HDEL', KEYS[1], 'ow')
redis.call('PEXPIREAT', KEYS[1], tonumber(v[3]) + tonumber(ARGV[3]))
return 1
"""
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, 'src/store/redis_scripts.cpp')) as f:
    B_complete = re.search(r'complete_lua = R"lua\((.*?)\)lua"', f.read(), re.S).group(1)
if '--floor' in sys.argv:
    B_complete = 'return 1'
    sys.argv.remove('--floor')
def enc(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str): a = a.encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)
s = socket.create_connection(('127.0.0.1', port))
def cmd(*args):
    s.sendall(enc(*args)); return read_reply()
buf = b''
def read_reply():
    global buf
    while True:
        # minimal parser for one reply
        r = parse(buf, 0)
        if r:
            val, pos = r; buf = buf[pos:]; return val
        buf += s.recv(1 << 20)
def parse(b, i):
    if i >= len(b): return None
    e = b.find(b'\r\n', i)
    if e < 0: return None
    t, line = b[i:i+1], b[i+1:e]
    if t in b'+-:': return (line, e + 2)
    if t == b'$':
        n = int(line)
        if n < 0: return (None, e + 2)
        if len(b) < e + 2 + n + 2: return None
        return (b[e+2:e+2+n], e + 4 + n)
    if t == b'*':
        n = int(line); pos = e + 2; arr = []
        for _ in range(n):
            r = parse(b, pos)
            if not r: return None
            arr.append(r[0]); pos = r[1]
        return (arr, pos)
shaA = cmd('SCRIPT', 'LOAD', A_complete).decode()
shaB = cmd('SCRIPT', 'LOAD', B_complete).decode()
fp = os.urandom(32); owner = 'a' * 32; resp = os.urandom(300)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 6
def run(layout):
    cmd('FLUSHALL')
    batch = []
    for i in range(N):
        k = 'k:{%d}' % i
        if layout == 'A':
            batch.append(enc('HSET', k, 'st', 'p', 'fp', fp.hex(), 'ow', owner, 'cr', '1764585600000'))
            batch.append(enc('PEXPIRE', k, '3600000'))
        else:
            batch.append(enc('SET', k, b'p' + fp + owner.encode() + b'C1764585600000', 'PX', '3600000'))
    s.sendall(b''.join(batch))
    for _ in batch: read_reply()
    cmd('CONFIG', 'RESETSTAT')
    batch = [enc('EVALSHA', shaA if layout == 'A' else shaB, '1', 'k:{%d}' % i, owner, resp, '86400000000') for i in range(N)]
    s.sendall(b''.join(batch))
    res = [read_reply() for _ in batch]
    if not all(r in (b'1', 1) for r in res):
        raise SystemExit('a complete did not answer 1: %r' % res[:3])
    info = cmd('INFO', 'commandstats').decode()
    m = re.search(r'cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)', info)
    return float(m.group(3))
out = {'A': [], 'B': []}
for r in range(ROUNDS):
    for l in ('A', 'B') if r % 2 == 0 else ('B', 'A'):
        out[l].append(run(l))
print({l: (statistics.median(v), v) for l, v in out.items()})
