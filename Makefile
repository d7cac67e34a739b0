# Collections: `make up` runs the whole system on this machine, `make test` runs every check.
.DEFAULT_GOAL := help
SHELL := /bin/bash
UV := $(shell ./scripts/ensure-uv)
RUN := $(UV) run --locked

.PHONY: help install up test lint fmt typecheck pytest bench chaos clean synth

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## Install the workspace (one lock file) and the system tools it needs
	@./scripts/ensure-system-tools
	@$(UV) sync --locked --all-packages --quiet
	@./services/analyzer/tagger/install.sh

up: install ## Run the whole system locally (PostgreSQL, AWS emulator, six services, UI on :8000)
	@$(RUN) python -m collections_shared.devstack up

test: install lint typecheck pytest ## Lint, type-check and run every test

lint: ## Ruff lint and format check
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .

fmt: ## Format and auto-fix
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .

typecheck: ## mypy --strict over the shared library and every service
	@$(RUN) mypy shared/src services/*/src

pytest: ## The test suites (pytest's "no tests collected" counts as a failure)
	@$(RUN) pytest $(PYTEST_ARGS)

bench: install ## Benchmarks: print numbers against a baseline measured in the same run
	@$(RUN) python -m bench

clean: ## Remove local state (database, emulator snapshot, logs)
	rm -rf .local/state

synth: install ## Synthesize the AWS CDK app (dev and prod, offline) and lint it with cfn-lint
	@$(RUN) deploy/synth.sh
