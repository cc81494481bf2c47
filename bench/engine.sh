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
# Debian's OpenBLAS 0.3.21 takes an AVX-512 Zen 5 for a Haswell and then
# uses only its AVX2 kernels; name the AVX-512 kernel family unless the
# caller chose one.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
for b in "${builds[@]}"; do
  echo
  [ "$b" = bin/facereward-openblas ] && echo "(OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto})"
  "$b" bench engine "$@"
done
