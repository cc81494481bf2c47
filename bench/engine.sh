#!/usr/bin/env bash
# Runs `facereward bench engine` for the fast, plain and openblas builds. Each
# run times PyTorch (bench/engine_torch.py) in the same invocation, so every
# ratio compares two measurements taken minutes apart on the same machine.
# Usage: bench/engine.sh [flags for bench engine, e.g. --iters 20]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
CGO_ENABLED=0 go build -o bin/facereward-plain ./cmd/facereward
builds=(bin/facereward bin/facereward-plain)
if CGO_ENABLED=1 go build -tags openblas -o bin/facereward-openblas ./cmd/facereward 2>/dev/null; then
  builds+=(bin/facereward-openblas)
else
  echo "openblas build skipped (apt-get install libopenblas-dev)"
fi
for b in "${builds[@]}"; do
  echo
  if [ "$b" = bin/facereward-openblas ]; then
    echo "(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto})"
  fi
  "$b" bench engine "$@"
done
# OpenBLAS's kernel family follows OPENBLAS_CORETYPE (these machines set it
# to Haswell, the AVX2 kernels). On an AVX-512 CPU, also time OpenBLAS's
# AVX-512 kernels, so the comparison is with OpenBLAS at its best here.
if [ -x bin/facereward-openblas ] && [[ " ${builds[*]} " == *openblas* ]] &&
  [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo
  echo "(OPENBLAS_CORETYPE=SkylakeX)"
  OPENBLAS_CORETYPE=SkylakeX bin/facereward-openblas bench engine "$@"
fi
