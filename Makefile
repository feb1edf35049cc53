# Every target does its own set-up from a fresh clone.
SHELL := /bin/bash
NPM_CI_STAMP := node_modules/.ci-stamp

.PHONY: all deps bundle build lint unit consumers reliability integration e2e test demo bench ui package clean

all: build

$(NPM_CI_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_CI_STAMP)

deps: $(NPM_CI_STAMP)

bundle: deps
	node esbuild.mjs

build: bundle
	npx tsc -p .

lint: deps
	npx eslint src test bench

unit: build
	npx mocha

# Real consumers: Debian's torchvision (installed by the script) loads every synced fixture and
# demo dataset; Hugging Face, Keras and Edge Impulse rules checked from their published code.
consumers: build
	bash scripts/test-consumers.sh

# Crash, concurrency, hostile pipeline files, secrets and hostile keys (RELIABILITY.md), about 5 minutes.
reliability: build
	bash scripts/test-reliability.sh

# Real S3 server (Ceph RGW from Debian), installed and started by the script, stopped after.
integration: build
	bash scripts/test-integration.sh

# Real VS Code (code-server) in headless Chromium.
e2e: build
	bash scripts/test-e2e.sh

test: build lint unit consumers reliability integration e2e

bench: build
	bash bench/run.sh

# code-server with the extension and the demo workspace on 127.0.0.1, for a person to try.
ui: bundle
	bash scripts/ui.sh

# A .vsix for desktop VS Code.
package: deps
	bash scripts/package.sh

demo: bundle
	bash scripts/demo.sh

clean:
	rm -rf dist out .demo .test-tmp test-results
