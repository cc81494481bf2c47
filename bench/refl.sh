#!/usr/bin/env bash
# The ReFL experiment, as in the paper: the base restorer, + ReFL, and the
# ablations without L_reg, without L_struct and with a static FRM (no
# dynamic update), plus one without the pixel term, each tuned for --steps
# steps from the same base with the same seed ("builtin" in --only adds the
# built-in default restorer as it ships, trained by nothing here), then
# scored on dev-val (ids 04800–04999 of --data, degraded with --preset at
# seed 1001, as bench/quality.sh) or on any paired set
# given with --pairs DIR (DIR/lq and DIR/gt, matched by name): PSNR, SSIM,
# IDS, LMD, BRISQUE (facereward eval) and the FRM's mean score.
# --base (default builtin:base) is the restorer tuned and the base row;
# --reward (default the built-in FRM) the reward model ReFL trains with
# and the scores use. Other flags after -- go to every train refl run
# (e.g. -- --guidance 0.3). Runs resume where they stopped; finished ones
# are not retrained.
# Usage: bench/refl.sh [--steps 200] [--out out/refl] [--data DIR] [--preset diffbir]
#                      [--base DIR] [--reward FILE|RUN] [--pairs DIR] [--only "full noreg"]
#                      [-- train refl flags…]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=200 out=out/refl data=../shared/data/ffhq128 preset=diffbir pairs="" only="full noreg nostruct static nopixel"
base=builtin:base reward=() scorer=() extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --reward) reward=(--reward "$2"); scorer=(--model "$2"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "refl.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ ! -d "$data" ]; then
  echo "refl.sh: $data not found (the FFHQ faces of ../shared/data)" >&2
  exit 1
fi
mkdir -p bin "$out/runs"
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
declare -A flags=([full]="" [noreg]="--reg 0" [nostruct]="--struct 0" [static]="--frm-every 0" [nopixel]="--pixel 0")
declare -A label=([builtin]="built-in default" [full]="+ ReFL" [noreg]="+ ReFL without L_reg" [nostruct]="+ ReFL without L_struct" [static]="+ ReFL, static FRM" [nopixel]="+ ReFL without the pixel term")
for name in $only; do
  [ "$name" = builtin ] && continue
  run=$out/runs/$name
  resume=()
  [ -f "$run/config.json" ] && resume=(--resume)
  start=$(date +%s)
  # shellcheck disable=SC2086
  bin/facereward train refl --data "$data" --preset "$preset" --run "$run" --steps "$steps" --base "$base" "${reward[@]}" ${flags[$name]} "${extra[@]}" "${resume[@]}"
  echo "$name: $(( $(date +%s) - start )) s of training" | tee -a "$out/compute.txt"
done
if [ -z "$pairs" ]; then
  pairs=$out/pairs
  [ -d "$pairs/lq" ] || bin/facereward degrade --in "$data" --split devval --preset "$preset" --seed 1001 --out "$pairs"
fi
# Scored without restore's mild-input guidance (--mild-guidance 0): the
# sampler the networks are trained and tuned with, so that the rows compare
# networks, not the rule.
restore() { # name, model flags…
  local name=$1; shift
  [ -d "$out/$name" ] || bin/facereward restore "$pairs/lq" --aligned --mild-guidance 0 "$@" --out "$out/$name"
}
restore base --model "$base"
evalargs=(--pred "$out/base" --name base)
for name in $only; do
  model=$out/runs/$name/model
  [ "$name" = builtin ] && model=builtin:refl
  restore "$name" --model "$model"
  evalargs+=(--pred "$out/$name" --name "${label[$name]}")
done
bin/facereward eval --gt "$pairs/gt" --lq "$pairs/lq" "${evalargs[@]}" --out "$out/eval"
echo "mean FRM score (${scorer[1]:-the built-in FRM}):" | tee "$out/frm.txt"
for name in base $only; do
  bin/facereward reward score "${scorer[@]}" "$out/$name" | awk -v n="$name" '{s+=$1; c++} END {printf "%s\t%.3f\t(n = %d)\n", n, s/c, c}' | tee -a "$out/frm.txt"
done
