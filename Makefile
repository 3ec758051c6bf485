# HexProperty infrastructure: every verb a platform engineer runs.
# `make synth` and `make test` install what they need on a fresh machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
# node_modules/.bin first: its Node LTS (package.json) runs jsii and the cdktf CLI.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# The cdktf CLI and Terraform phone HashiCorp's checkpoint service for update notices; no.
export CHECKPOINT_DISABLE := 1
# mermaid-cli (make diagram) drives Debian's chromium: npm must not download puppeteer's own browser.
export PUPPETEER_SKIP_DOWNLOAD := 1
ENV ?=
ARGS ?=
REF ?=
FIRST ?=

CHECKOV := .venv-checkov
LINT := .venv-lint

.PHONY: help install synth test validate check lint-workflows github-settings bench docs diagram compose diff cost cost-readme cost-diff plan deploy wake bootstrap forgotten clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install: $(VENV)/.installed node_modules/.installed ## install pinned Python (.venv) and Node (node_modules) dependencies

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: install ## synthesize every environment into cdktf.out (offline, no credentials)
	$(PY) main.py $(ENV)

test: install ## run the test suite
	$(PY) -m pytest $(ARGS)

validate: synth ## Terraform validates and plans every synthesized stack and its bootstrap stack, offline, with the google provider stand-in (one line per problem)
	$(PY) main.py --bootstrap $(ENV) --outdir .gen/bootstrap.out
	$(PY) tools/validate.py $(ENV) && $(PY) tools/validate.py --stacks-dir .gen/bootstrap.out/stacks $(ENV:%=%-bootstrap)

check: synth $(CHECKOV)/.installed ## policy gate: checkov over both synthesized stacks (zero failures, nothing unparsed)
	$(CHECKOV)/bin/python tools/checkov_gate.py

$(CHECKOV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

lint-workflows: $(LINT)/.installed ## actionlint over every workflow and the setup action (syntax, expressions, script injection)
	$(LINT)/bin/actionlint -no-color

$(LINT)/.installed: requirements-lint.txt
	python3 -m venv $(LINT)
	$(LINT)/bin/pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r requirements-lint.txt
	@touch $@

github-settings: install ## compare GitHub's environments, reviewers and rulesets with .github/repository-settings.yaml (gh + admin credentials)
	$(PY) tools/github_settings.py

bench: synth ## time synth against the floor of loading the jsii assemblies, then make validate and make diff; prints the ratio last
	$(PY) tools/bench.py $(ARGS)

docs: install ## regenerate the environment-file reference in docs/environment-files.md from the schema
	$(PY) tools/schema_reference.py

# A fresh machine's package lists may be empty or old: update them before installing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

diagram: install ## regenerate the architecture picture in README.md and the inventory in docs/architecture.md from the synthesized stacks; render docs/architecture.svg
	$(PY) tools/diagram.py --mermaid-out .gen/architecture.mmd
	@command -v chromium >/dev/null || { echo "make diagram: installing Debian's chromium, which mermaid-cli drives"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y --no-install-recommends chromium; }
	mmdc --quiet --puppeteerConfigFile tools/puppeteer-config.json --input .gen/architecture.mmd --output docs/architecture.svg

compose: install ## regenerate compose.yaml (local PostgreSQL, Redis, Kafka) from the versions in the environment files
	$(PY) tools/compose_file.py

diff: install ## Terraform's plan of the working tree against the snapshots (or REF=origin/main, ENV=staging), offline; exit 3 when a protected resource is at risk (ALLOW_REPLACE=<address>,... after review)
	$(PY) tools/plan_diff.py $(if $(REF),--ref $(REF)) $(ENV)
# The synthesized stacks the cost targets read, rebuilt (all at once) when a source is newer.
# No `install` prerequisite: the cost targets never touch .venv or node_modules (on a fresh
# machine run `make install` or `make synth` first).
ENVS := $(basename $(notdir $(wildcard environments/*.yaml)))
STACKS := $(ENVS:%=cdktf.out/stacks/%/cdk.tf.json)
SOURCES := main.py $(wildcard environments/*.py environments/*/*.py environments/*.yaml environments/*.json constructs/*.py constructs/*/*.py) \
	$(shell find functions -type f)
SNAPSHOT = synth_tests/__snapshots__/test_snapshots/test_stack_matches_snapshot[$(1)].json

$(STACKS) &: $(SOURCES)
	$(PY) main.py

cost: $(STACKS) ## estimated monthly cost per environment, idle and under its load profile (make cost ENV=staging ARGS=--json)
	$(PY) tools/cost.py estimate $(ENV) $(ARGS)

cost-readme: $(STACKS) ## regenerate the cost estimate in docs/cost.md (a test fails when it is stale)
	$(PY) tools/cost.py page

cost-diff: $(STACKS) ## cost difference per environment from the committed snapshot to a fresh synth (shown beside `make diff`)
	@$(foreach env,$(ENVS),$(PY) tools/cost.py diff "$(call SNAPSHOT,$(env))" cdktf.out/stacks/$(env)/cdk.tf.json $(ARGS) &&) true

plan: install ## terraform plan of one stack: make plan ENV=staging (network + credentials)
	@test -n "$(ENV)" || { echo "usage: make plan ENV=<staging|production>" >&2; exit 2; }
	$(PY) tools/deploy_preflight.py $(ENV)
	cdktf diff $(ENV)

deploy: install ## apply one stack: make deploy ENV=staging (network + credentials)
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<staging|production>" >&2; exit 2; }
	$(PY) tools/deploy_preflight.py $(ENV)
	cdktf deploy $(ENV)

forgotten: synth ## print the gcloud commands that delete what a failover or failback forgot (removed blocks): make forgotten ENV=production
	@test -n "$(ENV)" || { echo "usage: make forgotten ENV=<env>" >&2; exit 2; }
	$(PY) tools/forgotten.py $(ENV)

wake: install ## start an auto-paused database: make wake ENV=staging (gcloud + credentials; takes minutes)
	@test -n "$(ENV)" || { echo "usage: make wake ENV=<staging|production>" >&2; exit 2; }
	gcloud sql instances patch $$($(PY) tools/sql_instance.py $(ENV)) --activation-policy=ALWAYS --quiet

bootstrap: install ## state bucket and CI identities, local state: make bootstrap ENV=staging [FIRST=1 before the first deploy] (network + credentials)
	@test -n "$(ENV)" || { echo "usage: make bootstrap ENV=<staging|production> [FIRST=1]" >&2; exit 2; }
	$(PY) tools/deploy_preflight.py --bootstrap $(ENV)
	$(PY) main.py --bootstrap $(if $(FIRST),--before-first-deploy) $(ENV) --outdir cdktf.out.bootstrap
	terraform -chdir=cdktf.out.bootstrap/stacks/$(ENV)-bootstrap init -input=false
	terraform -chdir=cdktf.out.bootstrap/stacks/$(ENV)-bootstrap apply -input=false

clean: ## remove synthesized output and caches (keeps .venv and node_modules)
	rm -rf cdktf.out .cdktf.out.* .main-stacks.* cdktf.out.bootstrap .cdktf.out.bootstrap.* .pytest_cache .hypothesis .gen
