#!/usr/bin/python3
"""Checks the container and Kubernetes files in docker/ without a Docker engine (none runs on
the development machines or in CI): every YAML parses, the configurations they carry pass
`idemgate --check-config` with the environment they are given, the manifests agree with
each other and with the configuration (ports, probes, secrets, grace periods), and the
Dockerfile builds with CI's commands and installs the packages the binary links against;
the operators' kit (rules, runbook, dashboard, the Compose profile `monitoring`) links up.
Prints one line per check; exits 1 when any fails.
  scripts/check-manifests.py [path/to/idemgate]    (default: build/idemgate)

Debian's interpreter (/usr/bin/python3): python3-yaml (scripts/install-deps.sh) installs into it.
"""
import json, os, re, shlex, subprocess, sys, tempfile
import yaml

binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
binary = binary or os.path.abspath("build/idemgate")
results = []

def check(name, fn):
    try:
        problem = fn()
    except Exception as e:  # a missing key or file is a failed check, not a crash
        problem = f"{type(e).__name__}: {e}"
    results.append(not problem)
    print(("ok    " if not problem else "FAIL  ") + name + (f": {problem}" if problem else ""))

def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

yaml_files = sorted(os.path.join(d, f) for d, _, fs in os.walk("docker") for f in fs
                    if f.endswith((".yaml", ".yml")))
for path in yaml_files:
    check(f"{path} parses as YAML", lambda p=path: None if docs(p) else "no document")

def find(kind):
    for path in yaml_files:
        for d in docs(path):
            if isinstance(d, dict) and d.get("kind") == kind:
                return d
    raise KeyError(f"no {kind} in docker/")

def seconds(duration):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", str(duration))
    return int(m[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]

def drain_total(cfg):
    sd = cfg.get("shutdown", {})
    return seconds(sd.get("drain_delay", "0s")) + seconds(sd.get("timeout", "20s"))

def port_of(address):
    return int(str(address).rsplit(":", 1)[1])

def finish():
    failed = results.count(False)
    print(f"check-manifests: all {len(results)} checks passed" if not failed
          else f"check-manifests: {failed} of {len(results)} checks failed")
    sys.exit(1 if failed else 0)

try:
    services = docs("docker/compose.yaml")[0]["services"]
    deploy, cmap, secret, service = (find(k) for k in ("Deployment", "ConfigMap", "Secret",
                                                       "Service"))
    pod = deploy["spec"]["template"]["spec"]
    init_sidecars = [c for c in pod.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    gateway = next(c for c in pod["containers"] + init_sidecars if c["name"] == "idemgate")
    k8s_cfg = yaml.safe_load(cmap["data"]["idemgate.yaml"])
    docker_cfg = docs("docker/idemgate.yaml")[0]
except Exception as e:
    check("compose services, Deployment (container idemgate), ConfigMap, Secret, Service load",
          lambda: f"{type(e).__name__}: {e}")
    finish()

def check_config(text, env):
    if not os.access(binary, os.X_OK):
        return f"{binary} not found: build it first"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(text)
        f.flush()
        clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        r = subprocess.run([binary, "--check-config", f.name], env=clean, capture_output=True,
                           text=True, timeout=30)
    return None if r.returncode == 0 else (r.stdout + r.stderr).strip().replace("\n", "; ")

def secret_value(ref):
    if secret["metadata"]["name"] != ref["name"]:
        raise KeyError(f"secret {ref['name']} is not the example's {secret['metadata']['name']}")
    return secret["stringData"][ref["key"]]

def k8s_env():
    return {e["name"]: e["value"] if "value" in e else secret_value(e["valueFrom"]["secretKeyRef"])
            for e in gateway.get("env", [])}

check("docker/idemgate.yaml passes --check-config (compose gateway environment)",
      lambda: check_config(open("docker/idemgate.yaml").read(),
                           {k: str(v) for k, v in services["gateway"]["environment"].items()}))
check("ConfigMap idemgate.yaml passes --check-config (deployment env + secret example)",
      lambda: check_config(cmap["data"]["idemgate.yaml"], k8s_env()))

def compose_redis():
    cmd = " ".join(map(str, services["redis"]["command"]))
    if not str(services["redis"]["image"]).startswith("redis:7"): return "image is not redis:7"
    for flag in ("--appendonly yes", "--maxmemory-policy noeviction"):
        if flag not in cmd: return f"command lacks {flag}"
check("compose: redis:7 with appendonly yes and maxmemory-policy noeviction", compose_redis)

def compose_gateway():
    g = services["gateway"]
    mounts = [str(v).split(":") for v in g["volumes"]]
    if ["./idemgate.yaml", "/etc/idemgate/idemgate.yaml", "ro"] not in mounts:
        return "docker/idemgate.yaml is not mounted read-only at /etc/idemgate/idemgate.yaml"
    if g["build"]["dockerfile"] != "docker/Dockerfile": return "not built from docker/Dockerfile"
    ports = {str(p) for p in g["ports"]}
    want = {f"{port_of(docker_cfg['listen'])}:8080", f"{port_of(docker_cfg['admin']['listen'])}:9090"}
    if not want <= ports: return f"ports {sorted(ports)} lack {sorted(want - ports)}"
    if "healthcheck" not in g["healthcheck"]["test"]: return "healthcheck is not `idemgate healthcheck`"
    if seconds(g["stop_grace_period"]) <= drain_total(docker_cfg):
        return "stop_grace_period <= shutdown.drain_delay + shutdown.timeout"
    if services["upstream"]["entrypoint"] != ["/usr/local/bin/demo-upstream", "0.0.0.0", "9000"]:
        return "upstream entrypoint is not demo-upstream 0.0.0.0 9000"
    env = {k: str(v) for k, v in g.get("environment", {}).items()}
    expand = lambda v: re.sub(r"\$\{(\w+)(?::-([^}]*))?\}",
                              lambda m: env.get(m[1]) or m[2] or "", str(v))
    for value, host in ((docker_cfg["upstream"]["url"], "upstream:9000"),
                        (docker_cfg["store"]["redis"]["url"], "redis:6379")):
        if f"//{host}" not in expand(value):
            return f"{value} does not reach the {host.split(':')[0]} service"
check("compose: gateway config mount, ports, healthcheck, grace period, demo upstream",
      compose_gateway)

def container_port(c, port):
    for p in c.get("ports", []):
        if port in (p.get("name"), p["containerPort"]): return p["containerPort"]
    raise KeyError(f"container {c['name']} has no port {port}")

def k8s_probes():
    admin = k8s_cfg["admin"]["listen"]
    if not (admin.startswith("0.0.0.0:") or admin.startswith("[::]:")):
        return f"admin.listen {admin} is not reachable on the pod IP"
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
        get = gateway[probe]["httpGet"]
        if get["path"] != path: return f"{probe} path {get['path']} != {path}"
        if container_port(gateway, get["port"]) != port_of(admin):
            return f"{probe} port is not admin.listen's {port_of(admin)}"
check("deployment: /readyz and /livez probes on admin.listen bound to 0.0.0.0", k8s_probes)

def k8s_security():
    for c in pod["containers"] + pod.get("initContainers", []):
        sc = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
        if sc.get("runAsNonRoot") is not True: return f"{c['name']}: runAsNonRoot is not true"
        if sc.get("runAsUser", 1) == 0: return f"{c['name']}: runAsUser 0"
        if sc.get("readOnlyRootFilesystem") is not True:
            return f"{c['name']}: readOnlyRootFilesystem is not true"
    res = gateway["resources"]
    for part in ("requests", "limits"):
        for what in ("cpu", "memory"):
            if what not in res.get(part, {}): return f"idemgate has no {part}.{what}"
check("deployment: non-root, read-only root FS, idemgate requests and limits", k8s_security)

def k8s_config():
    if gateway["args"] != ["--config", "/etc/idemgate/idemgate.yaml"]:
        return "idemgate args are not --config /etc/idemgate/idemgate.yaml"
    mount = next(m for m in gateway["volumeMounts"] if m["mountPath"] == "/etc/idemgate")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    if volume["configMap"]["name"] != cmap["metadata"]["name"]:
        return "/etc/idemgate is not the ConfigMap"
    ref = next(e for e in gateway["env"] if e["name"] == "IDEMGATE_STORE_REDIS_URL")
    secret_value(ref["valueFrom"]["secretKeyRef"])
check("deployment: config from the ConfigMap, IDEMGATE_STORE_REDIS_URL from the Secret",
      k8s_config)

def k8s_shutdown():
    total = drain_total(k8s_cfg)
    if pod["terminationGracePeriodSeconds"] <= total:
        return f"terminationGracePeriodSeconds <= drain_delay + timeout ({total}s)"
    if seconds(k8s_cfg.get("upstream", {}).get("timeout", "30s")) > seconds(k8s_cfg["shutdown"]["timeout"]):
        return "upstream.timeout > shutdown.timeout: in-flight requests may be cut"
    if gateway in init_sidecars: return None
    for c in pod["containers"]:
        if c is gateway: continue
        sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        if sleep < total: return f"{c['name']}: preStop sleep {sleep}s < idemgate's drain {total}s"
check("deployment: grace period and the API's preStop cover idemgate's drain", k8s_shutdown)

def k8s_service():
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in service["spec"]["selector"].items()):
        return "selector does not match the pod labels"
    for p in service["spec"]["ports"]:
        if container_port(gateway, p["targetPort"]) != port_of(k8s_cfg["listen"]):
            return f"targetPort {p['targetPort']} is not idemgate's listen port"
check("service: targets the idemgate container's listen port", k8s_service)

def dockerfile_lines():
    text = open("docker/Dockerfile").read().replace("\\\n", " ")
    return [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]

def defines(line):
    return {t for t in shlex.split(line) if t.startswith("-D")}

def dockerfile_ci():
    runs = [l for l in dockerfile_lines() if l.startswith("RUN ")]
    ci = open(".ci/run").read()
    if "apt-get update" not in ci or "scripts/install-deps.sh" not in ci: return ".ci/run changed"
    if not any("apt-get update" in r and "scripts/install-deps.sh" in r for r in runs):
        return "no RUN apt-get update && scripts/install-deps.sh"
    test = open("scripts/test.sh").read().splitlines()
    # The Release build's configure line (build-asan is CI's sanitizer pass, not shipped).
    ci_defs = set().union(*(defines(l) for l in test if re.search(r"cmake -S \. -B build\s", l)))
    if not ci_defs: return "scripts/test.sh has no cmake -S . -B build line"
    conf = next((r for r in runs if "cmake -S . -B build" in r), None)
    if not conf or "cmake --build build" not in conf: return "no cmake -S . -B build / --build build"
    if not any("cmake --build" in l for l in test): return "scripts/test.sh has no cmake --build"
    if not ci_defs <= defines(conf): return f"lacks CI's {sorted(ci_defs - defines(conf))}"
    options = set(re.findall(r"option\((\w+)", open("CMakeLists.txt").read()))
    extra = {d[2:].split("=")[0] for d in defines(conf) - ci_defs} - options
    if extra: return f"unknown CMake options {sorted(extra)}"
check("Dockerfile: build stage runs CI's install script and cmake lines", dockerfile_ci)

def dockerfile_runtime():
    lines = dockerfile_lines()
    cmake = open("CMakeLists.txt").read() + open("src/CMakeLists.txt").read()
    targets = set(re.findall(r"add_executable\(([\w-]+)", cmake))
    copied = re.findall(r"COPY --from=build /src/build/([\w-]+)", "\n".join(lines))
    if set(copied) != {"idemgate", "demo-upstream"} or not set(copied) <= targets:
        return f"copies {copied}, targets {sorted(targets)}"
    froms = [l.split()[1] for l in lines if l.startswith("FROM ")]
    if froms != ["debian:bookworm", "debian:bookworm-slim"]: return f"FROM {froms}"
    user = next(l.split()[1] for l in lines if l.startswith("USER "))
    if not re.fullmatch(r"[1-9]\d*(:\d+)?", user): return f"USER {user} is not a numeric non-root id"
    if not any(re.fullmatch(r'ENTRYPOINT \["[^"]+"\]', l) for l in lines): return "ENTRYPOINT not exec form"
    if "EXPOSE 8080 9090" not in lines: return "no EXPOSE 8080 9090"
    ignore = open("docker/Dockerfile.dockerignore").read().split()
    if "build" not in ignore: return "Dockerfile.dockerignore does not exclude build/"
check("Dockerfile: slim runtime, numeric non-root user, exec ENTRYPOINT, ports, context",
      dockerfile_runtime)

def runtime_packages():
    if not os.access(binary, os.X_OK): return f"{binary} not found: build it first"
    line = next(l for l in dockerfile_lines() if "apt-get install" in l)
    installed = set(line.split("--no-install-recommends", 1)[1].split("&&")[0].split())
    base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}  # in debian:bookworm-slim
    missing = set()
    for exe in (binary, os.path.join(os.path.dirname(binary), "demo-upstream")):
        out = subprocess.run(["ldd", exe], capture_output=True, text=True, check=True).stdout
        for lib in re.findall(r"=> (/\S+)", out):
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True,
                                   text=True).stdout.split(":")[0]
            if owner and owner not in base | installed: missing.add(owner)
    if missing: return f"runtime stage lacks {sorted(missing)}"
check("Dockerfile: runtime packages own every library ldd lists", runtime_packages)

# The operators' kit (docs/operations.md "Dashboard and alerts"): the rules and their runbook,
# the dashboard, and the Compose profile that runs them. promtool and tests/prometheus check
# what the expressions mean; these check the files and their links.
RULES = "docker/prometheus/idemgate-rules.yaml"
DASHBOARD = "docker/grafana/idemgate-dashboard.json"

def slug(heading):  # GitHub's anchor of a Markdown heading
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

def doc_anchors(path):
    text = re.sub(r"```.*?```", "", open(path).read(), flags=re.S)  # no "# comment" in code
    return {slug(h) for h in re.findall(r"^#+\s+(.+)$", text, re.M)}

def alerts():
    return [r for g in docs(RULES)[0]["groups"] for r in g["rules"] if "alert" in r]

def rules_runbook():
    anchors = doc_anchors("docs/operations.md")
    names = set()
    for a in alerts():
        name = a["alert"]
        names.add(name)
        if a.get("labels", {}).get("severity") not in ("critical", "warning"):
            return f"{name}: severity is not critical or warning"
        notes = a.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not notes.get(key): return f"{name}: no {key} annotation"
        doc, _, anchor = notes["runbook_url"].partition("#")
        if doc != "docs/operations.md" or anchor != slug(name):
            return f"{name}: runbook_url {notes['runbook_url']} is not docs/operations.md#{slug(name)}"
        if anchor not in anchors: return f"{name}: docs/operations.md has no section #{anchor}"
    text = open("docs/operations.md").read()
    runbook = text[text.index("\n## Runbook\n"):]
    stale = {h for h in re.findall(r"^### (\S+)$", runbook, re.M)} - names
    if stale: return f"Runbook sections without an alert: {sorted(stale)}"
check(f"{RULES}: every alert has a severity, a summary, a description and a runbook_url "
      "naming its own section of docs/operations.md", rules_runbook)

def rules_tested():
    test = docs("docker/prometheus/idemgate-rules.test.yaml")[0]
    if test["rule_files"] != [os.path.basename(RULES)]: return f"rule_files {test['rule_files']}"
    tested = {t["alertname"] for case in test["tests"] for t in case.get("alert_rule_test", [])
              if t.get("exp_alerts")}
    untested = {a["alert"] for a in alerts()} - tested
    if untested: return f"no promtool case where these fire: {sorted(untested)}"
check("idemgate-rules.test.yaml: a promtool case where each alert fires", rules_tested)

def dashboard():
    d = json.load(open(DASHBOARD))
    if d.get("uid") != "idemgate" or not d.get("title"): return "uid idemgate and a title"
    names = {v["name"] for v in d["templating"]["list"]}
    if not {"datasource", "job", "instance"} <= names: return f"variables {sorted(names)}"
    panels = [p for p in d["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in d["panels"]]
    if len(ids) != len(set(ids)): return "duplicate panel ids"
    for p in panels:
        if not p.get("targets"): return f"panel {p['title']!r} has no target"
        for t in p["targets"]:
            if not t.get("expr"): return f"panel {p['title']!r} target {t.get('refId')} has no expr"
            if t.get("datasource", {}).get("uid") != "${datasource}":
                return f"panel {p['title']!r}: data source is not the ${{datasource}} variable"
check(f"{DASHBOARD}: JSON, uid, variables, every panel has PromQL targets on ${{datasource}}",
      dashboard)

def mounts(service):  # container path -> host path, for the bind mounts of a Compose service
    out = {}
    for v in services[service].get("volumes", []):
        src, dst = str(v).split(":")[:2]
        if src.startswith("."): out[dst] = os.path.normpath(os.path.join("docker", src))
    return out

def host_path(service, path):  # where a path inside the container comes from, or None
    for dst, src in sorted(mounts(service).items(), key=lambda m: -len(m[0])):
        if path == dst or path.startswith(dst.rstrip("/") + "/"):
            return src + path[len(dst):]
    return None

def compose_monitoring():
    for name in ("prometheus", "grafana"):
        svc = services[name]
        if "monitoring" not in svc.get("profiles", []): return f"{name} is not in profile monitoring"
        for dst, src in mounts(name).items():
            if not os.path.exists(src): return f"{name}: mount source {src} does not exist"
        for p in svc.get("ports", []):
            if not str(p).startswith("127.0.0.1:"): return f"{name}: port {p} not on loopback"
    prom_cfg = host_path("prometheus", "/etc/prometheus/prometheus.yml")
    if prom_cfg != "docker/prometheus/prometheus.yml": return f"prometheus.yml mounted from {prom_cfg}"
    cfg = docs(prom_cfg)[0]
    for f in cfg["rule_files"]:
        if host_path("prometheus", f) != RULES: return f"rule file {f} is not {RULES}"
    want = f"gateway:{port_of(docker_cfg['admin']['listen'])}"
    got = [t for job in cfg["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    if want not in got: return f"scrape targets {got} lack the gateway's admin listener {want}"
    if host_path("grafana", "/etc/grafana/provisioning") != "docker/grafana/provisioning":
        return "docker/grafana/provisioning is not mounted at /etc/grafana/provisioning"
    sources = docs("docker/grafana/provisioning/datasources/prometheus.yaml")[0]["datasources"]
    if [s["url"] for s in sources] != ["http://prometheus:9090"]: return "data source url"
    for provider in docs("docker/grafana/provisioning/dashboards/idemgate.yaml")[0]["providers"]:
        path = provider["options"]["path"] + "/" + os.path.basename(DASHBOARD)
        if host_path("grafana", path) != DASHBOARD: return f"{path} is not {DASHBOARD}"
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    if host_path("grafana", home) != DASHBOARD: return f"home dashboard {home} is not {DASHBOARD}"
check("compose: profile monitoring runs Prometheus (rules, the gateway's admin port) and "
      "Grafana (data source, dashboard) from existing files, on loopback", compose_monitoring)

def promtool_config():
    # The compose Prometheus config, its rule file mapped back to the repository through the
    # mounts: promtool reads both, as Prometheus would at start.
    cfg = docs("docker/prometheus/prometheus.yml")[0]
    cfg["rule_files"] = [os.path.abspath(host_path("prometheus", f)) for f in cfg["rule_files"]]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        yaml.safe_dump(cfg, f)
        f.flush()
        try:
            r = subprocess.run(["promtool", "check", "config", f.name], capture_output=True,
                               text=True, timeout=60)
        except FileNotFoundError:
            return "promtool not found (scripts/install-deps.sh installs prometheus)"
    return None if r.returncode == 0 else (r.stdout + r.stderr).strip().replace("\n", "; ")
check("docker/prometheus/prometheus.yml passes promtool check config (with its rules)",
      promtool_config)

check("scripts/install-deps.sh installs python3-yaml (this script)",
      lambda: None if "python3-yaml" in open("scripts/install-deps.sh").read() else "missing")

finish()
