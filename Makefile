# facereward build and test entry points. The fast build uses Go 1.26's
# experimental SIMD package (GOEXPERIMENT=simd); the plain build is what a
# bare `go build` gives; the openblas build links OpenBLAS through cgo.
GO      ?= go
FAST    := GOEXPERIMENT=simd
BIN     := bin/facereward
OPENBLAS_HEADER := $(firstword $(wildcard /usr/include/cblas.h /usr/include/x86_64-linux-gnu/cblas.h /usr/include/openblas/cblas.h))

.PHONY: build build-plain build-openblas test fuzz fuzz-smoke demo bench bench-quick bench-restorer quality clean

build:
	$(FAST) CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/facereward

build-plain:
	CGO_ENABLED=0 $(GO) build -o bin/facereward-plain ./cmd/facereward

build-openblas:
	CGO_ENABLED=1 $(GO) build -tags openblas -o bin/facereward-openblas ./cmd/facereward

# Every GEMM path runs the whole suite: AVX-512 and AVX2 (fast build), the
# plain build's kernel, the portable scalar kernel, and OpenBLAS when its
# headers are installed (Debian libopenblas-dev). Last, every fuzz target
# for 5 s (fuzz-smoke: about 70 s for the 10 targets on a busy 2-core machine).
test:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(FAST) $(GO) vet ./...
	$(GO) vet ./...
	$(FAST) CGO_ENABLED=0 $(GO) build ./...
	CGO_ENABLED=0 $(GO) build ./...
	$(FAST) $(GO) test -count=1 ./...
	$(FAST) GODEBUG=cpu.avx512f=off $(GO) test -count=1 ./tensor ./nn ./benchnet
	$(GO) test -count=1 ./...
	FACEREWARD_GEMM=scalar $(GO) test -count=1 ./tensor ./nn
ifneq ($(OPENBLAS_HEADER),)
	CGO_ENABLED=1 $(GO) test -count=1 -tags openblas ./tensor ./nn ./benchnet
else
	@echo "openblas tests skipped: no cblas.h (apt-get install libopenblas-dev)"
endif
	GO=$(GO) tools/fuzz.sh 5

# Every fuzz target in turn (tools/fuzz.sh): 5 s each as a smoke test,
# or 10 minutes each as a campaign. Failing inputs land in
# PKG/testdata/fuzz/NAME/ and from then on run with the ordinary tests.
fuzz-smoke:
	GO=$(GO) tools/fuzz.sh 5

fuzz:
	GO=$(GO) tools/fuzz.sh 600

# The README's first command: restore the bundled example faces with the
# built-in weights, score them (report in out/demo/eval/report.html) and
# print the built-in reward model's score of each stage.
demo: build
	$(BIN) restore examples/lq --aligned --out out/demo/restored --save-stage1 out/demo/stage1
	$(BIN) eval --gt examples/gt --lq examples/lq --pred examples/lq --name LQ --pred out/demo/stage1 --name "stage 1" \
		--pred out/demo/restored --name "stage 2" --out out/demo/eval
	$(BIN) reward score examples/lq out/demo/stage1 out/demo/restored examples/gt

# A quick engine benchmark against PyTorch.
bench-quick:
	$(FAST) $(GO) run ./cmd/facereward bench engine --quick

# The full benchmark for all three builds; see bench/engine.sh.
bench:
	bench/engine.sh

# The restorer's training and restore times against PyTorch; see bench/restorer.sh.
bench-restorer:
	bench/restorer.sh

# The quality table on dev-val for one preset (PRESET=diffbir by default).
PRESET ?= diffbir
quality:
	bench/quality.sh --preset $(PRESET)

clean:
	rm -rf bin out
