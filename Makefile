# Catalyst: `make run` serves the panel, `make test` runs every check.
SHELL := /bin/bash
export UV_SYSTEM_CERTS := 1
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := 3.11

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test install lint typecheck pytest format clean bench ui ui-test screenshots

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced

UI_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/package.json frontend/tsconfig.json frontend/vite.config.ts

# npm ci again whenever package-lock.json is newer than the last install
frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

# Build the UI again whenever a source or package file is newer than the last build
frontend/dist/index.html: frontend/node_modules/.installed $(UI_SOURCES)
	cd frontend && npm run build
	@touch $@

ui: frontend/dist/index.html

ui-test: frontend/node_modules/.installed
	cd frontend && npm run lint && npm test

# Hot reload is on; the example plugin is enabled (with the permissions it requests) the first
# time it is discovered (later runs keep what you chose). Ctrl-C or SIGTERM stops the server
# gracefully and `catalyst serve` then exits 0, so make reports no error.
run: install ui
	CATALYST_HOT_RELOAD=$${CATALYST_HOT_RELOAD:-true} \
	CATALYST_PLUGIN_AUTO_ENABLE=$${CATALYST_PLUGIN_AUTO_ENABLE:-'["example-plugin"]'} \
	exec .venv/bin/catalyst serve

lint: install
	$(UV) run --frozen ruff format --check src tests bench catalyst-plugins
	$(UV) run --frozen ruff check src tests bench catalyst-plugins
	$(UV) run --frozen lint-imports

typecheck: install
	$(UV) run --frozen mypy src/catalyst tests

pytest: install ui
	$(UV) run --frozen pytest

test: lint typecheck ui-test pytest

format: install
	$(UV) run --frozen ruff format src tests bench catalyst-plugins
	$(UV) run --frozen ruff check --fix src tests bench catalyst-plugins

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache

screenshots: install ui
	$(UV) run --frozen python -m tests.ui.screenshots

# frontend/src/lib/types.ts from the API's OpenAPI document (tests/test_generated_types.py checks it)
types: install frontend/node_modules/.installed
	$(UV) run --frozen python scripts/gen_types.py

bench: install
	$(UV) run --frozen python bench/route_overhead.py
