#!/usr/bin/env bash
# Single node beside the local cluster, in one run (issue 19): for each build, `ignis serve`, then
# `ignis cluster up --assignment in-memory`, then `ignis cluster up` (journal), each on a fresh data
# directory, each measured with `ignis bench --endpoint` (bench/scenarios/cluster.json: warm python
# no-op, 1 and 8 clients) through the last frontend; prints one table: invokes/s, p50, p99, errors,
# and the CPU each deployment's processes spent per invoke (from /proc, the load generator excluded).
#
#   bench/cluster.sh                                  # this checkout's build (packaged: ignis-dist/target/lib)
#   bench/cluster.sh --build /tmp/a --build .         # A/B: another packaged checkout first, then this one
#   bench/cluster.sh --rounds 3 --scale 0.5           # repeat every deployment; fewer requests per phase
#
# Builds are run as they are (`./mvnw -pl ignis-dist -am package -DskipTests` first; never `install`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA="${IGNIS_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
BUILDS=(); ROUNDS=1; SCALE=1; SCENARIO="$ROOT/bench/scenarios/cluster.json"
DEPLOYMENTS="single in-memory journal"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILDS+=("$(cd "$2" && pwd)"); shift 2;;
    --rounds) ROUNDS="$2"; shift 2;;
    --scale) SCALE="$2"; shift 2;;
    --scenario) SCENARIO="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2;;
    --only) DEPLOYMENTS="$2"; shift 2;;
    *) echo "usage: bench/cluster.sh [--build DIR]... [--rounds N] [--scale F] [--only 'single in-memory journal']" >&2; exit 2;;
  esac
done
[ ${#BUILDS[@]} -gt 0 ] || BUILDS=("$ROOT")
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ignis-cluster-bench.XXXXXX")"; chmod o+x "$WORK"   # sandboxes (other uids) pass through
RUNTIMES="$WORK/runtimes"
OUT="$WORK/reports"; mkdir -p "$OUT"
PID=""
stop() { if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; fi; }
trap 'stop' EXIT

ignis() { local build="$1"; shift; "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$build/ignis-dist/target/lib/*:$build/ignis-dist/target/classes" dev.ignis.dist.Main "$@"; }
# the same in the background, as one process ($PID is the JVM itself, so stopping it runs its shutdown: the nodes stop too)
ignis_bg() { local build="$1" log="$2"; shift 2; ( exec "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$build/ignis-dist/target/lib/*:$build/ignis-dist/target/classes" dev.ignis.dist.Main "$@" > "$log" 2>&1 ) & PID=$!; }

# CPU ticks (user+system) of every process whose command line names $1, children (the runtimes) included
ticks() { local t=0 p; for p in $(pgrep -f -- "$1" || true); do
  t=$((t + $(awk '{print $14+$15+$16+$17}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }

for round in $(seq 1 "$ROUNDS"); do
  for b in "${!BUILDS[@]}"; do
    build="${BUILDS[$b]}"
    [ -d "$build/ignis-dist/target/lib" ] || { echo "not packaged: $build (./mvnw -pl ignis-dist -am package -DskipTests)" >&2; exit 1; }
    for dep in $DEPLOYMENTS; do
      data="$WORK/r$round-b$b-$dep"; log="$data.log"; mkdir -p "$data"
      endpoint=""; creds=""
      for attempt in 1 2 3; do   # a cluster on a loaded 2-core machine sometimes fails its first elections: start it again
        rm -rf "$data"; mkdir -p "$data"
        case "$dep" in
          single)
            ignis_bg "$build" "$log" serve --data-dir "$data" --port 0 --runtime-home "$RUNTIMES"
            for _ in $(seq 1 120); do [ -f "$data/server.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 1; done
            if [ -f "$data/server.json" ]; then
              port=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['port'])" "$data/server.json")
              endpoint="http://127.0.0.1:$port"; creds="$data/aws/credentials"
            fi;;
          in-memory|journal)
            ignis_bg "$build" "$log" cluster up --assignment "$dep" --data-dir "$data" --port 0 --runtime-home "$RUNTIMES"
            for _ in $(seq 1 300); do grep -qs "cluster is up" "$log" && break; kill -0 "$PID" 2>/dev/null || break; sleep 1; done
            endpoint=$( (grep -so 'frontend[0-9]* \[frontend\] http://[0-9.:]*' "$log" || true) | tail -1 | awk '{print $3}')
            creds="$data/cluster/shared/aws/credentials";;
        esac
        [ -n "$endpoint" ] && [ -f "$creds" ] && break
        echo "$dep of $build did not start (attempt $attempt; load $(cut -d' ' -f1 /proc/loadavg)): $(grep -m1 -o 'cannot start.*' "$log" || tail -1 "$log")" >&2
        stop; endpoint=""
      done
      if [ -z "$endpoint" ]; then echo "$round $b $dep did-not-start" >> "$WORK/failed.txt"; continue; fi
      before=$(ticks "$data")
      ignis "$ROOT" bench --endpoint "$endpoint" --credentials "$creds" --scenario "$SCENARIO" --baseline none \
        --scale "$SCALE" --out "$OUT/r$round-b$b-$dep" > "$data.bench.log" 2>&1 || { cat "$data.bench.log" >&2; exit 1; }
      after=$(ticks "$data")
      echo "$round $b $dep $((after - before))" >> "$WORK/cpu.txt"
      grep -E '^warm' "$data.bench.log" | sed "s|^|r$round ${dep} (build $b) |" >&2
      stop
    done
  done
done

python3 - "$WORK" "${BUILDS[@]}" <<'PY'
import json, sys, os, glob, statistics
work, builds = sys.argv[1], sys.argv[2:]
cpu = {}
for line in open(os.path.join(work, "cpu.txt")):
    r, b, dep, t = line.split()
    cpu[(r, b, dep)] = int(t)
rows = {}
for f in sorted(glob.glob(os.path.join(work, "reports", "*", "*.json"))):
    tag = os.path.basename(os.path.dirname(f))            # r<round>-b<build>-<deployment>
    r, b, dep = tag[1:].split("-", 2)
    b = b[1:]
    d = json.load(open(f))
    total = sum(p["requests"] for p in d["phases"])
    for p in d["phases"]:
        rows.setdefault((b, dep, p["name"]), []).append((p["perSecond"], p["warmMs"].get("p50", 0), p["warmMs"].get("p99", 0),
                                                         p["errors"], cpu[(r, b, dep)] * 10.0 / max(1, total)))
    load = d["machine"]
print("machine:", load)
print("| build | deployment | phase | invokes/s (median) | p50 ms | p99 ms | errors | platform JVMs' CPU ms per measured invoke |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
order = {"single": 0, "in-memory": 1, "journal": 2}
for (b, dep, ph), v in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][0], order.get(kv[0][1], 9))):
    med = lambda i: statistics.median(x[i] for x in v)
    print(f"| {os.path.basename(builds[int(b)]) or builds[int(b)]} | {dep} | {ph} | {med(0):,.0f} | {med(1):.2f} | {med(2):.2f} | "
          f"{sum(x[3] for x in v)} | {med(4):.2f} |")
if os.path.exists(os.path.join(work, "failed.txt")):
    print("did not start (round build deployment):", open(os.path.join(work, "failed.txt")).read().strip().replace("\n", "; "))
print("reports and logs:", work)
PY
