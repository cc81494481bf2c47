#!/usr/bin/env bash
# `facereward bench restorer` for the fast and plain builds (bench/builds.sh).
# Usage: bench/restorer.sh [flags for bench restorer, e.g. --iters 5]
exec "$(dirname "$0")/builds.sh" restorer "$@"
