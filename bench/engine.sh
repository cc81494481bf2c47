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
  "$b" bench engine "$@"
done
