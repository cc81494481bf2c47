#!/usr/bin/env bash
# `facereward bench refl` for the fast and plain builds (bench/builds.sh).
# Usage: bench/refl_step.sh [flags for bench refl, e.g. --iters 5]
exec "$(dirname "$0")/builds.sh" refl "$@"
