#!/usr/bin/env bash
# Scores a restorer on dev-val (ids 04800–04999 of the FFHQ faces in
# ../shared/data/ffhq128) degraded with one preset at 128×128, fixed seed:
# LQ, stage 1, stage 2 and GT rows of PSNR, SSIM, IDS, LMD, BRISQUE (and the
# rest of `facereward eval`'s metrics, FID-ID against the GT), with the HTML report beside.
# Usage: bench/quality.sh [--preset diffbir] [--model DIR] [--out DIR] [restore flags…]
# Without --model the built-in weights are scored.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=diffbir model=() out="" data=../shared/data/ffhq128 seed=1001
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --model) model=(--model "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) break ;;
  esac
done
out=${out:-out/quality/$preset}
if [ ! -d "$data" ]; then
  echo "quality.sh: $data not found (the FFHQ faces of ../shared/data)" >&2
  exit 1
fi
mkdir -p bin "$out"
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
bin/facereward degrade --in "$data" --split devval --preset "$preset" --seed "$seed" --out "$out/pairs"
bin/facereward restore "$out/pairs/lq" --aligned "${model[@]}" --out "$out/stage2" --save-stage1 "$out/stage1" "$@"
bin/facereward eval --gt "$out/pairs/gt" --lq "$out/pairs/lq" \
  --pred "$out/pairs/lq" --name LQ --pred "$out/stage1" --name "stage 1" \
  --pred "$out/stage2" --name "stage 2" --pred "$out/pairs/gt" --name GT --fid-id --out "$out/eval"
