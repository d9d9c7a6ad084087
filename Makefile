# Thin wrappers over `lab`, with the targets SEs know from the original labs.
# POSIX sh only (dash is /bin/sh on Debian/Ubuntu): no bashisms here.

VENV    ?= .venv
PYTHON  ?= python3
LAB     := $(VENV)/bin/lab
PYTEST  := $(VENV)/bin/python -m pytest
STACKS  ?=
SERVICE ?=
AGENT   ?=
# test modules run side by side, each whole in one worker (its shared lab and its order kept)
TEST_JOBS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv env engine base-image build start up stop restart logs start-logs configure status \
        verify creds doctor test test-unit lint golden clean destroy

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TESTDEPS := $(VENV)/.test-deps

$(LAB): pyproject.toml Makefile
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "installing python3-venv (needed for the virtualenv)"; rm -rf $(VENV); \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[scim,viewer,host,verify,radius,mcp]'
	@touch $(LAB)

$(TESTDEPS): $(LAB) pyproject.toml
	$(VENV)/bin/python -m pip install -q -e '.[test,scim,viewer,host,verify,radius,mcp]'
	@$(VENV)/bin/python -m pip install -q -e '.[scim-c]' 2>/dev/null || \
	  echo "mysqlclient not built (needs libmariadb-dev, pkg-config, a C compiler): the SCIM server uses PyMySQL"
	@touch $(TESTDEPS)

venv: $(LAB) ## Create the virtualenv and install okta-lab

env: $(LAB) ## Create .env with generated secrets, or add the secrets an older .env lacks
	@$(LAB) init --add-missing

engine: $(LAB) ## Install and start a Docker engine when none answers (Debian/Ubuntu)
	$(LAB) engine setup

base-image: $(LAB) ## Create the base image locally (debootstrap when no registry answers)
	$(LAB) base-image

build: env engine ## Render the lab and build its images
	$(LAB) render $(STACKS)

up: env engine ## Start the default labs, wait until healthy, print the demo card
	$(LAB) up --creds $(STACKS)

start: up ## Same as up

stop: $(LAB) ## Stop the lab (data is kept)
	$(LAB) down

restart: stop start ## Stop, then start

logs: $(LAB) ## Follow the logs (SERVICE=name for one)
	$(LAB) logs -f $(SERVICE)

start-logs: up ## Start, then follow the logs
	$(LAB) logs -f $(SERVICE)

configure: $(LAB) ## Register an Okta agent (AGENT=okta-ldap-agent|okta-opp|...)
	$(LAB) configure $(AGENT)

status: $(LAB) ## Show service state and health
	$(LAB) status

verify: $(LAB) ## Run the checks against the running lab
	$(LAB) verify $(STACKS)

creds: $(LAB) ## Print the demo card with passwords
	$(LAB) creds

doctor: $(LAB) ## Check engine, compose, ports, disk, .env, packages
	$(LAB) doctor

test: $(TESTDEPS) ## Install test dependencies and run every test (needs a Docker engine)
	$(PYTEST) -q -n $(TEST_JOBS) --dist loadfile

test-unit: $(TESTDEPS) ## Unit and rendering tests only (no Docker)
	$(PYTEST) -q tests/unit tests/render

lint: $(TESTDEPS) ## ruff, mypy
	$(VENV)/bin/ruff check lab tests benchmarks
	$(VENV)/bin/ruff format --check lab
	$(VENV)/bin/mypy

golden: $(TESTDEPS) ## Regenerate the rendering golden files (review the diff!)
	LAB_UPDATE_GOLDEN=1 $(PYTEST) -q tests/render

destroy: $(LAB) ## Remove the lab and ALL its data (asks first)
	$(LAB) destroy

clean: ## Remove the virtualenv and caches (not .env, not data/)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
