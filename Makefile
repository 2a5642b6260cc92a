# The README's commands. Each target installs what it needs first (scripts/install-deps.sh is
# idempotent and quick when everything is present).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build test lint conformance demo bench package screenshots fuzz

help:
	@echo "make demo   - run Lanyard against the local lab (signs ada in, prints her connectors)"
	@echo "make test   - every test: lint, unit, integration (real lab + real keyring), UI, conformance"
	@echo "make bench  - fan-out and app-footprint benchmarks; numbers go to docs/benchmarks.md"
	@echo "make fuzz   - every fuzz target (libFuzzer + ASan) for FUZZ_SECONDS each (default 60)"
	@echo "make package - the .deb, with the Tauri bundler"
	@echo "make screenshots - the window (e2e run) and the tray menu, into docs/screenshots"

deps:
	@bash scripts/install-deps.sh

build: deps
	cargo build --workspace --bins

test: deps
	@bash scripts/test.sh

lint: deps
	@bash scripts/lint.sh

conformance: deps
	@bash scripts/conformance.sh

demo: deps
	@bash scripts/demo.sh

bench: deps
	@bash scripts/bench.sh

fuzz: deps
	@bash scripts/fuzz.sh

package: deps
	@bash scripts/package.sh

screenshots: deps
	@bash scripts/e2e.sh
	@bash scripts/tray-screenshot.sh
