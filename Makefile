# The two commands of the README: `make demo` (the main job, no cluster needed) and
# `make test` (every test). Both set the machine up first.
.PHONY: setup demo test test-unit test-native test-e2e typecheck bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

typecheck: setup
	pnpm -r --workspace-concurrency=2 run typecheck

test-native: setup
	@if [ -f native/Makefile ]; then $(MAKE) -s -C native test; fi

test-unit: setup
	pnpm -r --filter "./packages/**" --workspace-concurrency=1 run test

test-e2e: setup
	pnpm -C test run test

test: typecheck test-native test-unit test-e2e

bench: setup
	pnpm run bench

clean:
	rm -rf packages/*/dist native/build
