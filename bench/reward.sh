#!/usr/bin/env bash
# Trains and measures the Face Reward Model from scratch, as README's
# "Face Reward Model" section reports it:
#  1. preference pairs from the restorer (built-in weights unless --model):
#     --n training faces (train split, seed 1) and the 200 dev-val faces
#     (seed 1001, the quality table's degradations), each with stage 1,
#     three stage-2 samples, the LQ and the ground truth as candidates;
#  2. the auto-labeller on both (the ground-truth rule while there are no
#     human verdicts; with them, its logistic model);
#  3. train reward on the training pairs;
#  4. reward eval on the dev-val pairs (never trained on): pairwise accuracy
#     and the GT > stage-2 > LQ order.
# Every step resumes: rerunning skips what is done.
# Usage: bench/reward.sh [--n 400] [--model builtin:base] [--out DIR] [train reward flags…]
set -euo pipefail
cd "$(dirname "$0")/.."
n=400 model=(--model builtin:base) out=out/reward data=../shared/data/ffhq128
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n=$2; shift 2 ;;
    --model) model=(--model "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ ! -d "$data" ]; then
  echo "reward.sh: $data not found (the FFHQ faces of ../shared/data)" >&2
  exit 1
fi
mkdir -p bin "$out"
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
fr=bin/facereward
$fr prefs generate --data "$data" "${model[@]}" --out "$out/train" --split train --n "$n" --seed 1 --samples 3 --gt
$fr prefs generate --data "$data" "${model[@]}" --out "$out/devval" --split devval --n 200 --seed 1001 --samples 3 --gt
for set in train devval; do
  $fr prefs label --db "$out/$set/prefs.db" --store "$out/$set/images"
done
resume=()
[ -d "$out/frm/checkpoints" ] && resume=(--resume)
$fr train reward --prefs "$out/train/prefs.db" --run "$out/frm" "${resume[@]}" "$@"
$fr reward eval --model "$out/frm" --prefs "$out/devval/prefs.db"
