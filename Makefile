# Every target does its own set-up from a fresh clone.
SHELL := /bin/bash
NPM_CI_STAMP := node_modules/.ci-stamp

.PHONY: all deps build lint unit test demo clean

all: build

$(NPM_CI_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NPM_CI_STAMP)

deps: $(NPM_CI_STAMP)

build: deps
	node esbuild.mjs
	npx tsc -p .

lint: deps
	npx eslint src test bench

unit: build
	npx mocha

test: build lint unit

demo: build
	bash scripts/demo.sh

clean:
	rm -rf dist out .demo .test-tmp test-results
