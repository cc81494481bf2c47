#!/usr/bin/env bash
# Runs `facereward bench TARGET` for the fast and plain builds. Each run
# times PyTorch in the same invocation, so every ratio compares two
# measurements taken minutes apart on the same machine. Run it on a quiet
# machine: PyTorch's thread pool slows down many times over when another
# process holds the cores.
# Usage: bench/builds.sh restorer|refl [flags for that bench, e.g. --iters 5]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: bench/builds.sh restorer|refl [flags]}
shift
mkdir -p bin
GOEXPERIMENT=simd CGO_ENABLED=0 go build -o bin/facereward ./cmd/facereward
CGO_ENABLED=0 go build -o bin/facereward-plain ./cmd/facereward
for b in bin/facereward bin/facereward-plain; do
  echo
  "$b" bench "$target" "$@"
done
