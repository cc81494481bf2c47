#!/usr/bin/env bash
# The data behind restore's --mild-guidance rule: training-split faces
# (never dev-val) degraded with each preset, restored at a grid of uniform
# guidance values with the mild rule off, scored per face (facereward eval),
# then tools/mildtune fits the rule (which faces count as mild, how far
# they are guided) to the per-face results.
# Layout: OUT/PRESET/{pairs,stage1,gG,eval}; runs resume, finished parts
# are kept.
# Usage: bench/mild.sh [--out out/mild] [--data DIR] [--first 4656] [--last 4799]
#                      [--presets "gfpgan codeformer-large diffbir"] [--guidance "0.275 0.45 0.6 0.75 0.9"]
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/mild data=../shared/data/ffhq128 first=4656 last=4799
presets="gfpgan codeformer-large diffbir" grid="0.275 0.45 0.6 0.75 0.9"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --first) first=$2; shift 2 ;;
    --last) last=$2; shift 2 ;;
    --presets) presets=$2; shift 2 ;;
    --guidance) grid=$2; shift 2 ;;
    *) echo "mild.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ "$last" -ge 4800 ]; then
  echo "mild.sh: ids from 04800 on are dev-val, where the rule is judged: tune on the training split" >&2
  exit 2
fi
make build >/dev/null
fr=bin/facereward
mkdir -p "$out"
seq -f "%05g" "$first" "$last" > "$out/ids.txt"
for p in $presets; do
  d=$out/$p
  mkdir -p "$d"
  [ -d "$d/pairs" ] || { $fr degrade --in "$data" --list "$out/ids.txt" --preset "$p" --seed 7 --out "$d/pairs.tmp" && mv "$d/pairs.tmp" "$d/pairs"; }
  preds=()
  for g in $grid; do
    if [ ! -d "$d/g$g" ]; then
      s1=()
      [ -d "$d/stage1" ] || s1=(--save-stage1 "$d/stage1.tmp")
      $fr restore --aligned --guidance "$g" --mild-guidance 0 "${s1[@]}" --out "$d/g$g.tmp" "$d/pairs/lq"
      [ -d "$d/stage1.tmp" ] && mv "$d/stage1.tmp" "$d/stage1"
      mv "$d/g$g.tmp" "$d/g$g"
    fi
    preds+=(--pred "$d/g$g" --name "g$g")
  done
  [ -d "$d/eval" ] || { $fr eval --gt "$d/pairs/gt" --pred "$d/pairs/lq" --name LQ --pred "$d/stage1" --name "stage 1" "${preds[@]}" --pred "$d/pairs/gt" --name GT --out "$d/eval.tmp" && mv "$d/eval.tmp" "$d/eval"; }
done
go run ./tools/mildtune "$out"
