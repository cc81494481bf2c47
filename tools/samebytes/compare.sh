#!/usr/bin/env bash
# Checks that two commits behave the same, byte for byte: runs run.sh's
# seeded workload (restore, stage-1/2 training, ReFL) with each and compares
# every file it wrote (log.jsonl without wall-clock times and speeds).
#
#   tools/samebytes/compare.sh OLD NEW [DATA]     e.g. compare.sh HEAD~1 HEAD
#
# Prints "identical bytes: N files" and exits 0, or lists the files that
# differ and exits 1. Outputs stay in ${TMPDIR:-/tmp}/facereward-samebytes-{old,new}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=${TMPDIR:-/tmp}/facereward-samebytes-old new=${TMPDIR:-/tmp}/facereward-samebytes-new
"$here/run.sh" "$1" "$old" ${3:+"$3"}
"$here/run.sh" "$2" "$new" ${3:+"$3"}
n=$(find "$old" -type f | wc -l)
if diff -rq "$old" "$new"; then
  echo "identical bytes: $n files ($1 and $2)"
else
  echo "DIFFERENT: the files above differ between $1 and $2" >&2
  exit 1
fi
