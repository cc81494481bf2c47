#!/usr/bin/env bash
# Runs a fixed, seeded workload with the facereward binary of one commit and
# writes everything it produces to OUT: restorations of examples/ (aligned)
# and of one whole photo, 10 steps of stage-1 training, 20 steps of stage-2
# training and 10 ReFL steps, each with a dev-val pass. Log lines lose their
# wall-clock "time" and "steps_per_s" fields; every other byte is kept for
# compare.sh.
#
#   tools/samebytes/run.sh COMMIT OUT [DATA]
#
# DATA is a folder of FFHQ-style faces (default ../shared/data/ffhq128 from
# the repository root); without it only the restore part runs.
set -euo pipefail
commit=$1 out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${3:-$root/../shared/data/ffhq128}
mkdir -p "$out"
dest=$(cd "$out" && pwd)
# The workload writes to one fixed folder, so paths recorded in configs and
# reports are the same for every commit.
out=${TMPDIR:-/tmp}/facereward-samebytes
rm -rf "$out" && mkdir -p "$out"
wt=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git -C "$root" worktree add --detach "$wt" "$commit" >/dev/null
(cd "$wt" && GOEXPERIMENT=simd CGO_ENABLED=0 go build -o "$out/facereward" ./cmd/facereward)
bin=$out/facereward
cd "$wt"
$bin restore examples/lq --aligned --out "$out/aligned" --save-stage1 "$out/aligned-stage1" --seed 7 >"$out/restore-aligned.txt"
$bin restore testdata/faces/astronaut_256.png --out "$out/photo" --seed 7 >"$out/restore-photo.txt"
if [ ! -d "$data" ]; then
  echo "no $data: training part skipped" >&2
  exit 0
fi
$bin train restorer --stage 1 --data "$data" --run "$out/s1" --steps 10 --batch 2 \
  --eval-every 10 --eval-faces 2 --save-every 5 --seed 3 >"$out/s1.txt"
$bin train restorer --stage 2 --data "$data" --run "$out/s2" --stage1 "$out/s1/model.safetensors" \
  --steps 20 --batch 2 --eval-every 10 --eval-faces 2 --save-every 10 --sample-steps 4 --seed 3 >"$out/s2.txt"
# Stage 2 with every detail term on: the discriminator, the face-recognition
# net's identity and feature terms.
$bin train restorer --stage 2 --data "$data" --run "$out/s2detail" --stage1 "$out/s1/model.safetensors" \
  --steps 6 --batch 2 --eval-every 6 --eval-faces 2 --save-every 6 --sample-steps 4 --seed 3 \
  --adv 0.01 --id-weight 0.1 --feat-weight 0.05 --adv-min-t 0 >"$out/s2detail.txt"
$bin train refl --data "$data" --run "$out/refl" --steps 10 --batch 2 --eval-every 5 --eval-faces 2 \
  --frm-every 2 --save-every 5 --seed 3 >"$out/refl.txt"
# Wall-clock fields differ between any two runs: in the logs, and in the
# run reports drawn from them (the "logged up to" time and the steps/s
# chart's <svg> element).
for f in "$out"/*/log.jsonl; do
  sed -E 's/"time":"[^"]*",?//; s/"steps_per_s":[0-9.e+-]*,?//; s/,}/}/' "$f" >"$f.notime" && mv "$f.notime" "$f"
done
for f in "$out"/*/report.html; do
  perl -0pe 's/ \(\d{4}-\d\d-\d\dT[\d:]{8}Z\)//g; s#<svg[^>]*>(?:(?!<svg).)*?steps_per_s:.*?</svg>##s' "$f" >"$f.notime" && mv "$f.notime" "$f"
done
rm -f "$out/facereward"
rm -rf "$dest" && mv "$out" "$dest"
