#!/usr/bin/env bash
# kill_train.sh: does a training run survive kill -9 and resume exactly?
#
# Runs a small stage-1 training run (train restorer --stage 1, STEPS steps,
# a checkpoint every 5, batch 2, no dev-val passes, fixed seed) once without
# interruption as the reference, then the same run again in another folder,
# SIGKILLed ROUNDS times and resumed with --resume each time until it
# finishes. Half the kills come at a random moment (0.3 s to a sixth of the
# reference's time after a start, from a seeded $RANDOM), the other half,
# once the process has written one checkpoint, the moment the next
# checkpoint's temporary file appears (so the kill lands inside an atomic
# checkpoint write).
# After every kill it counts the temporary files left behind (a kill inside
# a write), and it reads the count the next resume reports removing.
# At the end the killed run must equal the reference byte for byte:
# model.safetensors, every kept checkpoint, config.json, and log.jsonl once
# the wall-clock keys (time, steps_per_s) are dropped and the lines a
# resume logs again are folded (every repeat must equal the first).
#
# Usage: tools/reliability/kill_train.sh [ROUNDS]      (default 10)
# Environment: DATA (faces, default ../shared/data/ffhq128 from the repo
# root), BIN (default bin/facereward), STEPS (default 60), SEED (kill
# schedule, default 1), KEEP=1 keeps the temporary folder.
# Exits non-zero if any check fails. Last line: a one-line summary.
set -euo pipefail

rounds=${1:-10}
if ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 1)); then
	echo "usage: $0 [ROUNDS]  (a positive whole number; default 10)" >&2
	exit 2
fi
cd "$(dirname "$0")/../.."
data=${DATA:-../shared/data/ffhq128}
bin=${BIN:-bin/facereward}
steps=${STEPS:-60}
seed=${SEED:-1}
if [[ ! -d $data ]] || ! compgen -G "$data/*.png" >/dev/null; then
	echo "kill_train: training faces not found in $data (set DATA=folder of FFHQ-style PNGs)" >&2
	exit 2
fi
if [[ ! -x $bin ]]; then
	echo "kill_train: $bin not found; build it: GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward" >&2
	exit 2
fi

tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
	if [[ -n ${KEEP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
# A sleep that forks nothing: read with a timeout from a pipe nobody writes.
exec {sleepfd}<> <(:)
nap() { read -rt "$1" -u "$sleepfd" || true; }

args=(train restorer --stage 1 --data "$data" --steps "$steps" --save-every 5 --batch 2 --eval-every 0 --seed 7)
newest() { # the newest checkpoint's name, or nothing
	ls "$1/checkpoints" 2>/dev/null | grep '^step-' | tail -1 || true
}
temps() { # temporary files of interrupted atomic writes in a run folder
	local n=0 f
	for f in "$1"/.*.tmp-* "$1"/checkpoints/.*.tmp-*; do [[ -e $f ]] && n=$((n + 1)); done
	echo "$n"
}

echo "kill_train: reference run, $steps steps, uninterrupted"
t0=$SECONDS
nice -n 10 "$bin" "${args[@]}" --run "$tmp/ref" >"$tmp/ref.out" 2>&1 || {
	cat "$tmp/ref.out" >&2
	echo "kill_train: the reference run failed" >&2
	exit 1
}
ref_s=$((SECONDS - t0))
echo "kill_train: reference took ${ref_s}s"
# Random kills come 0.3 s to a sixth of the reference's time after a start
# (so that ROUNDS kills land before the run ends).
window_ms=$((ref_s * 1000 / 6))
if ((window_ms < 2000)); then window_ms=2000; fi

RANDOM=$seed
run=$tmp/killed
kills=0 in_write=0 left=0 removed=0 starts=0 random_kills=0 aimed_kills=0 missed=0
t0=$SECONDS
while :; do
	starts=$((starts + 1))
	out=$tmp/killed.$starts.out
	if ((starts == 1)); then
		nice -n 10 "$bin" "${args[@]}" --run "$run" >"$out" 2>&1 &
	else
		nice -n 10 "$bin" "${args[@]}" --run "$run" --resume >"$out" 2>&1 &
	fi
	pid=$!
	if ((kills < rounds)); then
		if ((kills % 2 == 0)); then
			how=random
			ms=$((300 + RANDOM % (window_ms - 300)))
			nap "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		else
			# Let one checkpoint complete (so the run progresses), then
			# kill inside the next write: its temporary file appears.
			how=aimed
			before=$(newest "$run")
			while kill -0 "$pid" 2>/dev/null && [[ $(newest "$run") == "$before" ]]; do nap 0.01; done
			while kill -0 "$pid" 2>/dev/null && ! compgen -G "$run/checkpoints/.*.tmp-*" >/dev/null; do nap 0.002; done
		fi
	fi
	if ((kills < rounds)) && kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		pid=
		kills=$((kills + 1))
		[[ $how == random ]] && random_kills=$((random_kills + 1)) || aimed_kills=$((aimed_kills + 1))
		n=$(temps "$run")
		left=$((left + n))
		((n > 0)) && in_write=$((in_write + 1))
		echo "kill_train: kill $kills ($how) (newest checkpoint: $(newest "$run" | grep . || echo none)), $n temporary file(s) left"
	else
		rc=0
		wait "$pid" || rc=$?
		pid=
		if ((rc != 0)); then
			cat "$out" >&2
			echo "kill_train: the resumed run failed (exit $rc)" >&2
			exit 1
		fi
		if ((kills < rounds)); then missed=$((missed + 1)); fi
	fi
	r=$(sed -n 's/.*removed \([0-9]*\) temporary file.*/\1/p' "$out" | head -1)
	removed=$((removed + ${r:-0}))
	if grep -q 'EMA weights in' "$out"; then break; fi
	if ((starts > rounds + 50)); then
		echo "kill_train: the run did not finish after $starts starts" >&2
		exit 1
	fi
done
killed_s=$((SECONDS - t0))

fail=0 short=0
check() { # name, then a command that must succeed
	local name=$1
	shift
	if "$@"; then echo "  same: $name"; else
		echo "  DIFFERENT: $name"
		fail=1
	fi
}
echo "kill_train: comparing the killed run with the reference"
check model.safetensors cmp -s "$tmp/ref/model.safetensors" "$run/model.safetensors"
check config.json cmp -s "$tmp/ref/config.json" "$run/config.json"
check "checkpoint names ($(ls "$tmp/ref/checkpoints" | tr '\n' ' '))" \
	diff -q <(ls "$tmp/ref/checkpoints") <(ls "$run/checkpoints")
for f in "$tmp/ref/checkpoints"/*; do
	b=$(basename "$f")
	check "checkpoints/$b" cmp -s "$f" "$run/checkpoints/$b"
done
# log.jsonl without wall-clock keys; a resumed run logs again the steps after
# its checkpoint: every repeat of a step must equal its first line.
fold_log() {
	/usr/bin/python3 - "$1" <<'EOF'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    d.pop("time", None); d.pop("steps_per_s", None)
    s = json.dumps(d, sort_keys=True)
    if d["step"] in seen and seen[d["step"]] != s:
        print("step %d logged differently after a resume" % d["step"], file=sys.stderr); sys.exit(1)
    seen.setdefault(d["step"], s)
for k in sorted(seen): print(seen[k])
EOF
}
fold_log "$tmp/ref/log.jsonl" >"$tmp/ref.log" && fold_log "$run/log.jsonl" >"$tmp/killed.log" ||
	{ echo "  DIFFERENT: log.jsonl (a repeated step differs)"; fail=1; }
check "log.jsonl ($(wc -l <"$tmp/ref.log") steps; $(wc -l <"$run/log.jsonl") lines in the killed run's)" cmp -s "$tmp/ref.log" "$tmp/killed.log"
leftover=$(temps "$run")
check "no temporary files left at the end" test "$leftover" -eq 0
check "temporary files left by kills ($left) = removed on resume ($removed)" test "$left" -eq "$removed"
if ((kills < rounds)); then
	echo "  SHORT: only $kills of $rounds kills landed before the run finished"
	short=1
fi

summary="kill_train: $kills kill -9 rounds ($random_kills random, $aimed_kills aimed at a checkpoint write; $in_write landed inside a write), $((starts - 1)) resumes, $removed stale temp file(s) removed; final model, checkpoints and log $( ((fail)) && echo 'DIFFER from' || echo 'byte-identical to') an uninterrupted run ($steps steps; reference ${ref_s}s, killed run ${killed_s}s)"
echo "$summary"
exit $((fail || short))
