# tidemark — see README.md
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/tidemark

.PHONY: build test test-short demo bench lint clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/tidemark

# Everything: unit and integration tests against real PostgreSQL and FerretDB.
test:
	$(GO) test -race -count=1 -timeout 20m ./...

# Unit tests only: tests that need a database server skip under -short.
test-short:
	$(GO) test -short -count=1 ./...

# The whole story on throwaway local databases.
demo: build
	$(GO) run ./fixtures/cmd/demo -tidemark $(BIN)

# Benchmarks (large tables; not part of `make test`). Figures go to BENCHMARKS.md.
BENCH_SCALE ?= small
bench:
	TIDEMARK_BENCH_SCALE=$(BENCH_SCALE) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m ./...

lint:
	@out=$$(gofmt -l . 2>&1); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
