#!/usr/bin/env bash
# Times `facereward bench TARGET` (restorer or refl, fast build) for two
# commits on this machine: PyTorch once, then the Go side of OLD and NEW
# alternately, ROUNDS times each, so drift in the machine's speed falls on
# both alike. Prints each measurement's median over the rounds for OLD, NEW
# and PyTorch, and the ratios NEW/OLD and NEW/PyTorch. Run it on a quiet
# machine.
#
#   bench/commits.sh OLD NEW restorer|refl [ROUNDS] [-- flags for the bench]
#   e.g. bench/commits.sh HEAD~1 HEAD refl 2 -- --iters 3 --warmup 1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old=${1:?usage: bench/commits.sh OLD NEW restorer|refl [ROUNDS] [-- flags]} new=${2:?} target=${3:?}
shift 3
rounds=2
if [ $# -gt 0 ] && [ "$1" != -- ]; then rounds=$1; shift; fi
[ "${1:-}" = -- ] && shift
out=$(mktemp -d)
build() { # commit → $out/$1.bin
  local wt
  wt=$(mktemp -d)
  git -C "$root" worktree add --detach "$wt" "$1" >/dev/null 2>&1
  (cd "$wt" && GOEXPERIMENT=simd CGO_ENABLED=0 go build -o "$out/$2" ./cmd/facereward)
  git -C "$root" worktree remove --force "$wt"
}
build "$old" old
build "$new" new
cd "$root"
"$out/new" bench "$target" "$@" --json "$out/torch.json" >"$out/torch.txt"
for r in $(seq "$rounds"); do
  for c in old new; do
    "$out/$c" bench "$target" "$@" --no-torch --json "$out/$c-$r.json" >/dev/null
  done
done
python3 - "$out" "$rounds" "$old" "$new" <<'PY'
import json, statistics, sys
out, rounds, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda p: json.load(open(p))
torch = load(f"{out}/torch.json").get("torch", {})
# The Go medians are under "go"; older commits' `bench refl` wrote them
# at the top level.
times = lambda rep: rep.get("go") or {k: v for k, v in rep.items() if k.endswith("_s")}
runs = {c: [times(load(f"{out}/{c}-{r}.json")) for r in range(1, rounds + 1)] for c in ("old", "new")}
peaks = {c: [load(f"{out}/{c}-{r}.json").get("go_peak_rss_mb") for r in range(1, rounds + 1)] for c in ("old", "new")}
keys = [k for k, v in runs["new"][0].items() if isinstance(v, (int, float))]
print(f"{'measurement':<24} {'old s':>9} {'new s':>9} {'torch s':>9} {'new/old':>8} {'new/torch':>9}")
for k in keys:
    n = statistics.median(r[k] for r in runs["new"])
    # A measurement OLD does not make (a row added since) has no old time.
    o = statistics.median(r[k] for r in runs["old"]) if all(k in r for r in runs["old"]) else None
    t = next((v for tk, v in torch.items() if tk.lower() == k.lower()), None)
    ts = f"{t:9.3f}" if isinstance(t, (int, float)) else f"{'-':>9}"
    tr = f"{n / t:9.2f}" if isinstance(t, (int, float)) and t else f"{'-':>9}"
    os_, ro = (f"{o:9.3f}", f"{n / o:8.3f}") if o else (f"{'-':>9}", f"{'-':>8}")
    print(f"{k:<24} {os_} {n:9.3f} {ts} {ro} {tr}")
for c in ("old", "new"):
    print(f"peak RSS {c}: {max(p for p in peaks[c] if p):.0f} MB")
print(f"({rounds} rounds each; old = {old}, new = {new}; PyTorch once)")
PY
rm -rf "$out"
