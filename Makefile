# Informator: `make run` starts the local stack, `make test` runs everything CI runs.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
export AWS_DEFAULT_REGION ?= eu-central-1

.PHONY: run test lint unit package costs bench browser-deps web-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<26.3"
	$(BIN)/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

web-deps:
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi; \
	  node scripts/copy-vendor.mjs; fi

browser-deps:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium))

run: $(STAMP) web-deps
	$(BIN)/python -m infra.local

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/template.yaml

test: $(STAMP) web-deps browser-deps lint
	$(BIN)/pytest

# build/template.yaml: Chalice's package + infra/package.py (policies, logs, alarms, site, SNS
# settings); cfn-lint with the informational rules; the package sizes at the end.
package: $(STAMP)
	rm -rf build && mkdir -p build
	env -u RESOURCE_PREFIX $(BIN)/chalice package --stage prod --merge-template infra/template.yaml --template-format yaml build/
	$(BIN)/python -m infra.package build
	$(BIN)/cfn-lint --include-checks I -- build/template.yaml
	$(BIN)/python -m infra.package --sizes build

# docs/costs.md from the code's SMS builder and infra/prices.json (tests/unit/test_costs.py
# fails when it is not current).
costs: $(STAMP)
	$(BIN)/python -m infra.costs

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf build .local .pytest_cache .mypy_cache .ruff_cache
