#!/usr/bin/env bash
# Runs every fuzz target in the repository (or only the one named TARGET:
# tools/fuzz.sh [SECONDS [TARGET]]), one after another, for SECONDS
# each (default 600: the campaign; `make fuzz-smoke` passes 5), and prints
# each target's exec and new-interesting counts, and the statement coverage
# of the target's package by its seed corpus alone and by the seeds plus
# the corpus the fuzzer has built (Go's fuzz cache, which `go test -cover`
# does not read: its files are copied into PKG/testdata/fuzz/NAME/ under a
# zzcov- prefix for the one coverage run, and removed again), and a summary
# table.
# Exits non-zero if any target fails; a failing input is saved by Go under
# PKG/testdata/fuzz/NAME/, where it then runs as an ordinary test case.
#
# Environment: GO (default go), FUZZ_NICE (nice level, default 10, so a
# campaign yields to other work on the machine), FUZZ_PARALLEL (fuzzing
# processes per target; default GOMAXPROCS, all cores).
set -euo pipefail

seconds=${1:-600}
only=${2:-}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
	echo "usage: $0 [SECONDS [TARGET]]  (SECONDS a positive whole number, default 600; TARGET a fuzz target's name, default all)" >&2
	exit 2
fi
go=${GO:-go}
nice_level=${FUZZ_NICE:-10}

cd "$(dirname "$0")/.."

# Every "func FuzzNAME(" in a _test.go file, as "./pkg NAME", sorted.
targets=$({ grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*\(' . || true; } |
	grep -v -e '/testdata/' -e '/vendor/' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' |
	sort)
if [[ -n $only ]]; then
	targets=$(awk -v t="$only" '$2 == t' <<<"$targets")
fi
if [[ -z $targets ]]; then
	echo "no fuzz targets found${only:+ named $only}" >&2
	exit 1
fi

log=$(mktemp)
copied=()
cleanup() {
	rm -f "$log"
	if ((${#copied[@]} > 0)); then rm -f "${copied[@]}"; fi
}
trap cleanup EXIT
cache=$("$go" env GOCACHE)/fuzz
module=$("$go" list -m)

# coverage PKG NAME: the package's statement coverage by NAME's corpus in
# PKG/testdata/fuzz/NAME (and its f.Add seeds), as "12.3%".
coverage() {
	nice -n "$nice_level" "$go" test "$1" -run "^$2\$" -count 1 -cover 2>/dev/null |
		sed -nE 's/.*coverage: ([0-9.]+%) of statements.*/\1/p' | head -n 1
}
summary=()
failed=0
start=$SECONDS
while read -r pkg name; do
	echo "== $pkg $name (${seconds}s)"
	status=ok
	if ! nice -n "$nice_level" "$go" test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${seconds}s" ${FUZZ_PARALLEL:+-parallel "$FUZZ_PARALLEL"} >"$log" 2>&1; then
		status=FAIL
		failed=$((failed + 1))
		cat "$log"
	fi
	# The last progress line: "fuzz: elapsed: 5s, execs: 123 (25/sec), new interesting: 4 (total: 12)".
	last=$(grep '^fuzz: elapsed:' "$log" | tail -n 1 || true)
	execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
	interesting=$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 (total \2)/p' <<<"$last")
	seeds=$(coverage "$pkg" "$name")
	dir=$pkg/testdata/fuzz/$name
	mkdir -p "$dir"
	for f in "$cache/$module/${pkg#./}/$name"/*; do
		[[ -f $f ]] || continue
		dst=$dir/zzcov-$(basename "$f")
		cp "$f" "$dst"
		copied+=("$dst")
	done
	corpus=$(coverage "$pkg" "$name")
	if ((${#copied[@]} > 0)); then rm -f "${copied[@]}"; fi
	ncache=${#copied[@]}
	copied=()
	rmdir -p "$dir" 2>/dev/null || true
	echo "   ${status}: execs ${execs:-?}, new interesting ${interesting:-?}, coverage ${seeds:-?} (seeds) -> ${corpus:-?} (with ${ncache} cached inputs)"
	summary+=("$(printf '%-6s %-16s %-22s %12s  %-16s %7s %7s' "$status" "$pkg" "$name" "${execs:-?}" "${interesting:-?}" "${seeds:-?}" "${corpus:-?}")")
done <<<"$targets"

echo
echo "fuzz summary: ${seconds}s per target, $((SECONDS - start))s in all"
printf '%-6s %-16s %-22s %12s  %-16s %7s %7s\n' STATUS PACKAGE TARGET EXECS "NEW INTERESTING" SEEDS CORPUS
printf '%s\n' "${summary[@]}"
if ((failed > 0)); then
	echo "$failed target(s) failed"
	exit 1
fi
