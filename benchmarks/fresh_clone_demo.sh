#!/usr/bin/env bash
# Seconds from `make demo` in a fresh clone to the demo's /ready answering 200 (issue 14).
#   benchmarks/fresh_clone_demo.sh [repository] [clone folder] [port]
# The demo runs in its own session; once ready it gets SIGINT (as Ctrl-C would) and the
# script waits for it to stop. The clone's log is left in <clone folder>.log.
set -euo pipefail
repo=${1:-$(git rev-parse --show-toplevel)}
clone=${2:-/tmp/demo-fresh}
port=${3:-8765}
rm -rf "$clone" && git clone -q "$repo" "$clone"
cd "$clone"
started=$(date +%s.%N)
BENEFITS_PORT=$port setsid make demo >"$clone.log" 2>&1 &
demo=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/ready"; do
  kill -0 "$demo" 2>/dev/null || { echo "make demo stopped before /ready; see $clone.log"; exit 1; }
  sleep 0.5
done
echo "make demo -> /ready: $(echo "$(date +%s.%N) - $started" | bc) s ($(uptime | sed 's/.*load/load/'))"
kill -INT -- "-$demo"
wait "$demo" || true
