# mpjs — make demo runs the sample tour, make test runs every test.
GO      ?= go
BIN     := bin/mpjs
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test race demo bench lint fuzz chaos clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# Unit tests, end-to-end scripts and the fuzz seeds, under the race detector.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# A minute of the chaos test (make test runs 8 s of it): a busy script's
# processes SIGKILLed at random; -v shows the counts. Under -race, which
# slows the children, not the minute, and catches races on the fault paths.
chaos:
	MPJS_CHAOS=60s $(GO) test -race -run '^TestChaos$$' -count=1 -v .

demo: build
	./$(BIN) demo --all

bench: build
	$(GO) run ./bench -mpjs $(BIN)

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=60s ./runtime/codec/
	$(GO) test -run='^$$' -fuzz=FuzzFrame -fuzztime=60s ./host/
	$(GO) test -run='^$$' -fuzz=FuzzPoolItems -fuzztime=60s ./bindings/

clean:
	rm -rf bin
