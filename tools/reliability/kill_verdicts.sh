#!/usr/bin/env bash
# kill_verdicts.sh: does the annotation server lose acknowledged verdicts
# when it is killed -9 under load?
#
# Makes a small preference set (prefs generate: 4 faces, 1 stage-2 sample,
# seed 1: 12 pairs), serves it (serve --db --store, on 127.0.0.1), and
# loads it with CLIENTS concurrent annotators for DURATION seconds
# (tools/reliability/verdictload: GET /api/next, POST /api/verdict, a new
# judge name whenever one has judged every pair; every verdict answered
# 200 "saved" is recorded as acknowledged; after a lost answer half the
# clients fetch the next pair, the other half re-send the verdict as the
# annotation page does). Meanwhile the server is
# SIGKILLed KILLS times at random moments (seeded $RANDOM) and restarted
# on the same port. At the end it exports the verdicts (GET
# /api/export.jsonl) and checks that every acknowledged verdict is stored:
# lost must be 0, and duplicates too (a judge's second verdict on a pair:
# a re-send whose first answer was lost after the commit, which its
# idempotency id must keep from being stored again). It also counts the
# stored verdicts whose acknowledgement the kill cut off, and, for SQLite,
# runs PRAGMA integrity_check.
#
# Backends: sqlite (the --db file), postgres (a throwaway cluster from
# /usr/local/bin's initdb/pg_ctl, run as the postgres user, on 127.0.0.1
# and a free port, with trust authentication), or all (the default: both,
# postgres skipped with a note when its binaries or user are missing).
#
# Usage: tools/reliability/kill_verdicts.sh [sqlite|postgres|all]
# Environment: DATA (faces, default ../shared/data/ffhq128 from the repo
# root), BIN (default bin/facereward), KILLS (default 5), DURATION (seconds
# of load per backend, default 40), CLIENTS (default 8), SEED (default 1).
# Exits non-zero if any check fails. Last line: a one-line summary.
set -euo pipefail

which=${1:-all}
case $which in sqlite | postgres | all) ;; *)
	echo "usage: $0 [sqlite|postgres|all]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/../.."
data=${DATA:-../shared/data/ffhq128}
bin=${BIN:-bin/facereward}
kills=${KILLS:-5}
duration=${DURATION:-40}
clients=${CLIENTS:-8}
seed=${SEED:-1}
if [[ ! -d $data ]] || ! compgen -G "$data/*.png" >/dev/null; then
	echo "kill_verdicts: faces not found in $data (set DATA=folder of FFHQ-style PNGs)" >&2
	exit 2
fi
if [[ ! -x $bin ]]; then
	echo "kill_verdicts: $bin not found; build it: GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward" >&2
	exit 2
fi

tmp=$(mktemp -d)
chmod 755 "$tmp" # the postgres user must reach its data folder inside
spid= lpid= pgdata=
cleanup() {
	if [[ -n $spid ]]; then kill -9 "$spid" 2>/dev/null || true; fi
	if [[ -n $lpid ]]; then kill "$lpid" 2>/dev/null || true; fi
	if [[ -n $pgdata ]]; then su postgres -s /bin/sh -c "/usr/local/bin/pg_ctl -D '$pgdata' -m immediate stop" >/dev/null 2>&1 || true; fi
	if [[ -n ${KEEP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
exec {sleepfd}<> <(:)
nap() { read -rt "$1" -u "$sleepfd" || true; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

CGO_ENABLED=0 nice -n 10 go build -o "$tmp/verdictload" ./tools/reliability/verdictload

RANDOM=$seed
fail=0
summaries=()

# backend NAME DSN: one load-and-kill round against the database DSN.
backend() {
	local name=$1 dsn=$2 dir=$tmp/$1
	mkdir -p "$dir"
	echo "kill_verdicts[$name]: generating the preference set"
	nice -n 10 "$bin" prefs generate --data "$data" --out "$dir" --db "$dsn" --n 4 --samples 1 --seed 1 >"$dir/generate.out" 2>&1 || {
		cat "$dir/generate.out" >&2
		echo "kill_verdicts[$name]: prefs generate failed" >&2
		return 1
	}
	local port url
	port=$(free_port)
	url=http://127.0.0.1:$port
	start_server() {
		nice -n 10 "$bin" serve --addr "127.0.0.1:$port" --db "$dsn" --store "$dir/images" >>"$dir/serve.out" 2>&1 &
		spid=$!
		local i
		for ((i = 0; i < 600; i++)); do
			curl -sf -o /dev/null "$url/api/health" && return 0
			kill -0 "$spid" 2>/dev/null || break
			nap 0.05
		done
		cat "$dir/serve.out" >&2
		echo "kill_verdicts[$name]: the server did not come up" >&2
		return 1
	}
	start_server
	"$tmp/verdictload" -url "$url" -clients "$clients" -duration "${duration}s" -acked "$dir/acked.jsonl" -seed "$seed" >"$dir/load.out" &
	lpid=$!
	local t0=$SECONDS k gap ms down=0 d0
	gap=$((duration * 1000 / (kills + 1)))
	for ((k = 1; k <= kills; k++)); do
		# A kill every DURATION/(KILLS+1) s on average, ± half of that.
		ms=$((gap / 2 + RANDOM % gap))
		nap "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		kill -9 "$spid"
		wait "$spid" 2>/dev/null || true
		d0=$(date +%s%N)
		start_server
		down=$((down + ($(date +%s%N) - d0) / 1000000))
	done
	wait "$lpid"
	lpid=
	local load
	load=$(cat "$dir/load.out")
	curl -sf -o "$dir/export.jsonl" "$url/api/export.jsonl"
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	spid=
	local check rc=0
	check=$("$tmp/verdictload" -check "$dir/export.jsonl" -acked "$dir/acked.jsonl") || rc=$?
	echo "kill_verdicts[$name]: load $load"
	echo "kill_verdicts[$name]: check $check"
	if ((rc != 0)); then fail=1; fi
	local integrity=
	if [[ $name == sqlite ]]; then
		integrity=$(sqlite3 "$dsn" 'PRAGMA integrity_check;' 2>&1 || true)
		echo "kill_verdicts[$name]: integrity_check: $integrity"
		if [[ $integrity != ok ]]; then fail=1; fi
		integrity=", integrity_check $integrity"
	fi
	local acked stored lost dups unacked rps aps resent
	acked=$(jq -r .acked <<<"$check")
	stored=$(jq -r .stored <<<"$check")
	lost=$(jq -r .lost <<<"$check")
	dups=$(jq -r .duplicates <<<"$check")
	unacked=$(jq -r .stored_unacked <<<"$check")
	rps=$(jq -r '.answered_per_s | floor' <<<"$load")
	aps=$(jq -r '.acked_per_s | floor' <<<"$load")
	resent=$(jq -r '.resent' <<<"$load")
	if ((lost != 0)); then fail=1; fi
	summaries+=("$name: $kills kill -9 under $clients clients for $((SECONDS - t0))s, ${rps} answered req/s (${aps} verdicts/s), $acked verdicts acknowledged, $stored stored, $lost lost, $unacked stored but unacknowledged, $dups duplicates (from $resent page-style re-sends), ~$((down / kills)) ms to restart$integrity")
}

if [[ $which == sqlite || $which == all ]]; then
	backend sqlite "$tmp/sqlite/prefs.db"
fi
if [[ $which == postgres || $which == all ]]; then
	if [[ -x /usr/local/bin/initdb && -x /usr/local/bin/pg_ctl ]] && id postgres >/dev/null 2>&1; then
		pgdata=$tmp/pgdata
		pgport=$(free_port)
		mkdir -p "$pgdata"
		chown postgres "$pgdata"
		su postgres -s /bin/sh -c "/usr/local/bin/initdb -D '$pgdata' -U postgres --auth=trust" >"$tmp/initdb.out" 2>&1 || {
			cat "$tmp/initdb.out" >&2
			exit 1
		}
		su postgres -s /bin/sh -c "/usr/local/bin/pg_ctl -D '$pgdata' -w -l '$pgdata/log' -o \"-h 127.0.0.1 -p $pgport -k '$pgdata'\" start" >/dev/null || {
			cat "$pgdata/log" >&2
			exit 1
		}
		backend postgres "postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"
	elif [[ $which == postgres ]]; then
		echo "kill_verdicts: PostgreSQL (/usr/local/bin/initdb, pg_ctl, a postgres user) not found" >&2
		exit 2
	else
		summaries+=("postgres: skipped (no initdb/pg_ctl in /usr/local/bin or no postgres user)")
	fi
fi

line=
for s in "${summaries[@]}"; do line+="${line:+; }$s"; done
echo "kill_verdicts: $line — $( ((fail)) && echo FAILED || echo 'nothing lost')"
exit $fail
