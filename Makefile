# The README's two commands are `make dev` and `make test`; everything installs itself into .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/*/requirements.txt | cksum | cut -d' ' -f1)
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: dev test lint fmt migrate bench routes digest emails build deploy clean install

install: $(STAMP)

$(STAMP): requirements-dev.txt requirements.txt $(wildcard layers/*/requirements.txt)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

dev: install ## run the whole system locally on embedded services
	$(PY) -m local.dev

test: lint ## lint (ruff + the import contracts), then the whole test suite against real Postgres and Redis
	$(PY) -m pytest

lint: install ## ruff, and lint-imports: the architecture contracts in pyproject.toml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

fmt: install
	$(VENV)/bin/ruff check --fix .

migrate: install ## apply migrations to DATABASE_URL, or to the embedded Postgres under .local/
	$(PY) -m local.migrate_local

bench: install ## cold starts and warm per-request costs, as ratios measured in one run
	$(PY) -m bench

routes: install ## regenerate the $$default function's route table from template.yaml
	$(PY) -m local.routes_json

digest: install ## plan a weekly digest run now against the running `make dev` (DIGEST_AT=… to pick the hour)
	$(PY) -m local.scheduler digest

emails: install ## list the emails moto's SES "sent" in the running `make dev`
	$(PY) -m local.scheduler emails

# SAM's build cache keys each layer on its own folder, so a change to the steps every layer shares
# (layers/python-layer.mk) would reuse stale layers: a new checksum of that file clears the cache.
LAYER_MK_STAMP = .aws-sam/.python-layer-mk-$(shell cksum < layers/python-layer.mk | cut -d' ' -f1)

build: ## sam build (needs the AWS SAM CLI, installed by `make install`)
	@test -f $(LAYER_MK_STAMP) || rm -rf .aws-sam/cache
	$(VENV)/bin/sam build
	@rm -f .aws-sam/.python-layer-mk-* && touch $(LAYER_MK_STAMP)

deploy: build ## sam deploy ENV=dev|staging|prod: the stage's samconfig overrides plus AppVersion=<git commit>
	$(VENV)/bin/sam deploy --config-env $${ENV:-dev} --parameter-overrides "$$($(PY) -m local.deploy overrides $${ENV:-dev})"

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache

# Issue 11: the database-facing tests again, through a real PgBouncer in transaction mode (no
# ignore_startup_parameters) in front of the embedded Postgres. Needs the pgbouncer binary
# (apt-get install pgbouncer / brew install pgbouncer); no root: it runs as the current user.
POOLER_TESTS ?= tests/pooler tests/shared/repositories tests/shared/clients tests/shared/ops tests/functions tests/e2e
.PHONY: test-pooler
test-pooler: install ## the database-facing tests through PgBouncer (pool_mode = transaction)
	ATRIBUO_POOLER=pgbouncer $(PY) -m pytest $(POOLER_TESTS)

# Issue 11: the secrets (atribuo/<stage>/…) and the avatar bucket a stage needs before its first deploy.
.PHONY: bootstrap
bootstrap: install ## make bootstrap ENV=dev|staging|prod (DATABASE_URL, UPSTASH_REDIS_REST_URL/_TOKEN for those two)
	$(PY) -m local.deploy bootstrap $${ENV:-dev}

# issue 14: the routes' statements at 10k and 100k users, medians and growth side by side (bench/scale.py)
USERS ?= 100000
.PHONY: bench-scale
bench-scale: install ## statements at 10k..USERS users side by side (USERS=1000000 for the 1M run)
	USERS=$(USERS) $(PY) -m bench.scale
# Issue 12: the published contract (openapi.json, checked by tests/local/test_openapi_contract.py) and
# the TypeScript SDK generated from it (clients/typescript; npm packages pinned by its package-lock.json).
.PHONY: openapi sdk sdk-check
openapi: install ## write openapi.json: every function's spec merged, the contract rules applied
	$(PY) -m local.openapi

sdk: ## regenerate clients/typescript/src/gen from the committed openapi.json, then type-check
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate && npm run --silent typecheck

sdk-check: sdk ## CI: the committed SDK is what the generator makes from the committed spec
	git diff --exit-code -- clients/typescript openapi.json

# Issue 12: a real headless Chromium (Debian's /usr/bin/chromium: `apt-get install -y chromium`, which
# .ci/run does) drives a page on another origin through the SDK. Screenshots land in test-output/browser/.
.PHONY: test-browser
test-browser: install ## the real-browser end-to-end test (tests/e2e/test_browser.py)
	$(PY) -m pytest -m browser tests/e2e/test_browser.py

# Issue 11, the edge: a WAF WebACL for CloudFront exists only in us-east-1. A stage deployed there gets
# it from its own stack (EdgeWaf); any other stage runs this once, then names the printed WebAclArn in
# samconfig.toml as EdgeWebAclArn (docs/operations.md, "The edge").
.PHONY: edge-waf
edge-waf: install ## make edge-waf ENV=staging|prod: the edge's WAF stack (edge/waf.yaml) in us-east-1, and its WebAclArn
	$(VENV)/bin/sam deploy --template-file edge/waf.yaml --stack-name atribuo-$${ENV:-dev}-edge-waf --region us-east-1 \
	  --parameter-overrides Stage=$${ENV:-dev} --no-confirm-changeset --no-fail-on-empty-changeset
	$(VENV)/bin/sam list stack-outputs --stack-name atribuo-$${ENV:-dev}-edge-waf --region us-east-1 --output table

# Issue 11: the DepsLayer's whole closure pinned (layers/deps/requirements.txt) from its top-level list
# (requirements.in), resolved for Lambda's platform; tests/layers/test_lock.py fails when they drift.
.PHONY: lock
lock: install ## re-pin layers/deps/requirements.txt from layers/deps/requirements.in (needs the package index)
	$(PY) -m local.lock

# Issue 17: two languages. Extract every sentence (error messages, mails, pages) into shared/locale,
# merge it into the Indonesian catalogue (fill in each empty msgstr) and compile the .mo the runtime reads.
.PHONY: messages
messages: install ## extract, merge and compile the translations (shared/locale; --check: fail when incomplete)
	$(PY) -m local.messages
