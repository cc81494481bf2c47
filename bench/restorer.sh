#!/usr/bin/env bash
# Runs `facereward bench restorer` for the fast and plain builds. Each run
# times PyTorch (bench/restorer_torch.py) in the same invocation, so every
# ratio compares two measurements taken minutes apart on the same machine.
# Usage: bench/restorer.sh [flags for bench restorer, e.g. --iters 5]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
CGO_ENABLED=0 go build -o bin/facereward-plain ./cmd/facereward
for b in bin/facereward bin/facereward-plain; do
  echo
  "$b" bench restorer "$@"
done
