#!/usr/bin/env bash
# The restore service under load, on this machine only: builds facereward
# (the fast build), serves on 127.0.0.1 with WORKERS (default 2) workers
# and a queue of QUEUE (default 2)
# (--debug, for the goroutine and heap readings), sends a bounded burst
# (tools/loadtest: 200 requests from 16 clients by default), then stops
# the server with SIGTERM and checks that it stopped cleanly.
#
#   tools/loadtest/run.sh [-n 200] [-c 16] [-image testdata/faces/astronaut_256.png]
#
# PORT (default 18080) picks the port; NICE (default 10) the build's and
# the server's niceness. Everything stays on 127.0.0.1: the Go program
# refuses any other address.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${PORT:-18080}
nice_level=${NICE:-10}
tmp=$(mktemp -d)
bin=$tmp/facereward
log=$tmp/serve.log
GOEXPERIMENT=simd CGO_ENABLED=0 nice -n "$nice_level" go build -o "$bin" ./cmd/facereward
GOEXPERIMENT=simd nice -n "$nice_level" go build -o "$bin-loadtest" ./tools/loadtest

nice -n "$nice_level" "$bin" serve --addr "127.0.0.1:$port" --workers "${WORKERS:-2}" --queue "${QUEUE:-2}" --debug >"$log" 2>&1 &
server=$!
# Never leave the server behind, whatever happens below.
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 240); do
  grep -q "serve: restore at" "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.5
done
grep -q "serve: restore at" "$log" || { echo "the server did not start in 120 s"; cat "$log"; exit 1; }

status=0
"$bin-loadtest" -url "http://127.0.0.1:$port" "$@" || status=$?

kill -TERM "$server"
wait "$server" || { echo "serve exited with $?"; status=1; }
echo "server log:"
cat "$log"
grep -q "serve: stopped" "$log" || { echo "the server did not stop cleanly"; status=1; }
exit "$status"
