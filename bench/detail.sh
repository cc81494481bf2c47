#!/usr/bin/env bash
# The restorer's detail training, lever by lever: from the same --init
# (a restorer trained without the detail terms), with the same seed, batch
# and number of steps, the full recipe (the settings of the detail run whose
# weights ship, models/runs/stage2-detail/d)
# and the recipe with one lever removed at a time:
#   noadv      no adversarial term (no discriminator: a step costs less)
#   wholeface  the discriminator sees the whole face, not its detail bands
#   noid       no identity term
#   nofeat     no feature term
#   alltimes   trained on every timestep, not only those restore visits
#   nodetail   none of the detail terms (plain diffusion loss at t < 0.55·T)
# then each is restored with restore's defaults and scored on dev-val (ids
# 04800–04999 of --data, degraded with --preset at seed 1001, as
# bench/quality.sh), or on any paired set given with --pairs DIR (DIR/lq and
# DIR/gt, matched by name): PSNR, SSIM, IDS, LMD, BRISQUE, NIQE and FID-ID
# (facereward eval).
# Runs resume where they stopped; finished ones are not retrained.
# Usage: bench/detail.sh [--steps 300] [--warmup 100] [--out out/detail] [--data DIR]
#                        [--preset diffbir] --init DIR [--pairs DIR]
#                        [--only "full noadv"]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=300 warmup=100 out=out/detail data=../shared/data/ffhq128 preset=diffbir init="" pairs=""
only="full noadv wholeface noid nofeat alltimes nodetail"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "detail.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ -z "$init" ]; then
  echo "detail.sh: --init DIR is required: a restorer trained without the detail terms (the shipped one was, from models/ at commit 2b8deff)" >&2
  exit 2
fi
if [ ! -d "$data" ]; then
  echo "detail.sh: $data not found (the FFHQ faces of ../shared/data)" >&2
  exit 1
fi
mkdir -p bin "$out/runs"
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
# The full recipe: the shipped detail run's command (models/runs/stage2-detail/d/config.json).
adv="--adv 0.015 --disc-lr 4e-4 --disc-steps 2 --disc-high-pass 2 --disc-high-pass-gain 4"
ident="--id-weight 0.1" feat="--feat-weight 0.05" tmax="--t-max 0.55"
declare -A flags=(
  [full]="$adv $ident $feat $tmax"
  [noadv]="$ident $feat $tmax"
  [wholeface]="--adv 0.015 --disc-lr 4e-4 --disc-steps 2 $ident $feat $tmax"
  [noid]="$adv $feat $tmax"
  [nofeat]="$adv $ident $tmax"
  [alltimes]="$adv $ident $feat"
  [nodetail]="$tmax"
)
for name in $only; do
  [ -n "${flags[$name]+x}" ] || { echo "detail.sh: unknown run $name (want: ${!flags[*]})" >&2; exit 2; }
  run=$out/runs/$name
  resume=()
  [ -f "$run/config.json" ] && resume=(--resume)
  start=$(date +%s)
  # shellcheck disable=SC2086
  bin/facereward train restorer --stage 2 --data "$data" --preset "$preset" --run "$run" --init "$init" \
    --steps "$steps" --lr 1e-4 --warmup "$warmup" --ema 0.998 --eval-every 0 ${flags[$name]} "${resume[@]}"
  echo "$name: $(( $(date +%s) - start )) s of training" | tee -a "$out/compute.txt"
  [ -d "$run/model" ] || bin/facereward pack --run "$run" --out "$run/model"
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
restore init --model "$init"
evalargs=(--pred "$out/init" --name "init ($init)")
for name in $only; do
  restore "$name" --model "$out/runs/$name/model"
  evalargs+=(--pred "$out/$name" --name "$name")
done
bin/facereward eval --gt "$pairs/gt" --lq "$pairs/lq" "${evalargs[@]}" --out "$out/eval" --fid-id
