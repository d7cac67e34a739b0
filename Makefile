# Collections: `make up` runs the whole system on this machine, `make test` runs every check.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV := $(shell ./scripts/ensure-uv)
RUN := $(UV) run --locked

.PHONY: help install install-dev up test test-fast lint fmt typecheck packages pytest bench eval chaos clean synth redrive

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## Install what the services need (one lock file) and the system tools
	@./scripts/ensure-system-tools
	@$(UV) sync --locked --all-packages --no-default-groups --inexact --quiet
	@./services/analyzer/tagger/install.sh
	@UV=$(UV) ./services/analyzer/classifier/install.sh

install-dev: install ## Also install the test, lint and deploy tooling
	@$(UV) sync --locked --all-packages --quiet
	@./scripts/install-js-tools

up: install ## Run the whole system locally (PostgreSQL, AWS emulator, six services, UI on :8000)
	@$(UV) run --no-sync python -m collections_devtools.local up

test: install-dev lint typecheck packages pytest ## Lint, type-check, check each service installs alone, run every test

# Tests marked integration (set at collection: PostgreSQL, the emulator, a stack, a child process,
# anything under tests/) are left out; the fuzzing plugins only tests/ uses are not loaded.
test-fast: ## Only the unit tests: nothing outside the test process (no database, emulator, stack)
	@$(RUN) pytest -m "not integration" -p no:schemathesis -p no:faker \
	 shared/tests embeddings/tests cli/tests services $(PYTEST_ARGS)

lint: ## Ruff lint and format check, ESLint over the JavaScript, vulture for dead code
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@./scripts/lint-js
	@$(RUN) vulture

fmt: ## Format and auto-fix
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .
	@./scripts/lint-js --fix

typecheck: ## mypy --strict over the shared library, every service and the CDK app
	@$(RUN) mypy shared/src embeddings/src devtools/src cli/src services/*/src deploy bench

packages: ## Each service installed alone from the lock imports on its own dependencies
	@./scripts/check-service-installs

pytest: ## The test suites (pytest's "no tests collected" counts as a failure)
	@$(RUN) pytest $(PYTEST_ARGS)

bench: install-dev ## Benchmarks: print numbers against a baseline measured in the same run
	@$(RUN) python -m bench

eval: install-dev ## Search quality over DATA=dir (golden layout) [QUERIES=file] [NO_ANSWER=file] [OUT=file.json]
	@test -n "$(DATA)" || (echo "usage: make eval DATA=dir [QUERIES=file] [NO_ANSWER=file] [OUT=file.json]"; exit 2)
	@$(RUN) python -m bench.eval --data "$(DATA)" $(if $(QUERIES),--queries "$(QUERIES)") \
	 $(if $(NO_ANSWER),--no-answer "$(NO_ANSWER)") $(if $(OUT),--out "$(OUT)")

chaos: install-dev ## Chaos drain: 300 uploads while processes are killed; lost and duplicates must be 0
	@$(RUN) python -m bench.chaos $(CHAOS_ARGS)

redrive: ## Move dead-lettered messages back (QUEUE=collections-analyzer, default all; DRY=1 counts)
	@AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:$${COLLECTIONS_AWS_PORT:-4566}} \
	 AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} \
	 $(UV) run --no-sync python -m collections_shared.redrive $(if $(QUEUE),$(QUEUE),--all) $(if $(DRY),--dry-run)

clean: ## Remove local state (database, emulator snapshot, logs; keeps installed tools)
	rm -rf .local/postgres .local/aws-state.pickle .local/logs .local/stack.json .local/secrets.json

synth: install-dev ## Synthesize the AWS CDK app (dev and prod, offline) and lint it with cfn-lint
	@$(RUN) deploy/synth.sh
