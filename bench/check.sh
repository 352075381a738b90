#!/usr/bin/env bash
# Static checks of the benchmark code, for CI (the benchmark itself is not run there):
# shell syntax, Python compilation, Node syntax, Lua syntax when a Lua compiler is present,
# JSON files, and report.py on the recorded runs (bench/results/*).
set -euo pipefail
cd "$(dirname "$0")"

bash -n run.sh lib.sh check.sh capacity.sh redis_cpu_ab.sh
# lib.sh is checked through run.sh, which sources it (and uses its variables).
if command -v shellcheck >/dev/null; then shellcheck -x run.sh check.sh capacity.sh redis_cpu_ab.sh; fi

# compile() instead of py_compile: no __pycache__ left in the source tree.
python3 - report.py redis_check.py capacity.py capacity_tables.py complete_script_micro.py <<'PY'
import sys
for path in sys.argv[1:]:
    compile(open(path).read(), path, "exec")
PY

if command -v node >/dev/null; then node --check peer-b/server.mjs; fi

for lua in luajit luac5.1 luac; do
  if command -v "$lua" >/dev/null; then
    for f in wrk/*.lua; do
      if [ "$lua" = luajit ]; then luajit -bl "$f" >/dev/null; else "$lua" -p "$f"; fi
    done
    break
  fi
done

python3 - <<'PY'
import json
for path in ("peer-b/package.json", "peer-b/package-lock.json", "wrk/body.json"):
    json.load(open(path))
body = open("wrk/body.json", "rb").read()
assert not body.endswith(b"\n"), "wrk/body.json must not end with a newline (sent as is)"
deps = json.load(open("peer-b/package.json"))["dependencies"]
assert all(v[0].isdigit() for v in deps.values()), "Peer B dependencies must be pinned"
PY

# Every recorded run: report.py must still turn its raw data into its report.md (after a
# deliberate change of the report format, regenerate: report.py summarize --dir D > D/report.md).
for dir in results/*/; do
  if ! diff -u "$dir/report.md" <(python3 report.py summarize --dir "$dir") >/dev/null; then
    echo "bench/check.sh: report.py no longer reproduces ${dir}report.md" >&2
    exit 1
  fi
done
echo "bench/check.sh: ok"
