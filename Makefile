# Express Entry draws analysis. `make help` lists the targets.
# A fresh machine needs only python3 (3.11+): the first target that needs the environment builds it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
KERNEL := ee-draws
SINCE  ?= 2023-06
JOBS   ?= 2
PYTEST_ARGS ?=
# JupyterLab opens the notebooks on the project's kernel (new notebooks too); it refuses to run
# as root unless told to, so root (containers, CI machines) gets --allow-root, nobody else does.
LAB_OPTIONS := --ServerApp.root_dir=notebooks --MappingKernelManager.default_kernel_name=$(KERNEL)
LAB_OPTIONS += $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help venv data report reports month backtest test test-fast lint format lab bench lock check-notebooks distclean

help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: EE_FEED (feed URL or file), EE_DATA_DIR, EE_REPORTS_DIR, MONTH, SINCE, JOBS"

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	@touch $(STAMP)

venv: $(STAMP) ## build the virtual environment from pinned versions (automatic)

data: $(STAMP) ## retrieve the feed (EE_FEED or IRCC's URL) and clean it into data/processed
	$(BIN)/ee data

report: $(STAMP) ## the main job: fetch, clean, build the newest month's report (and every stale month) and the index
	$(BIN)/ee report

month: $(STAMP) ## one month's report: make month MONTH=2023-07
	$(BIN)/ee report --month $(MONTH)

reports: $(STAMP) ## every month since SINCE (default 2023-06), JOBS in parallel
	$(BIN)/ee reports --since $(SINCE) --jobs $(JOBS)

backtest: $(STAMP) ## backtest the pool model against every all-program round
	$(BIN)/ee backtest

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the tests that do not run notebooks or a browser
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check, no notebook outputs, actionlint on the workflows
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/nbstripout --verify --keep-id notebooks/*.ipynb
	$(BIN)/actionlint .github/workflows/*.yml

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks notebooks
	$(BIN)/ruff format src tests benchmarks

lab: $(STAMP) ## JupyterLab on the project's kernel (root too: containers, CI machines)
	$(BIN)/jupyter lab $(LAB_OPTIONS)

bench: $(STAMP) ## measure backfill, no-change rebuild and one-new-round rebuild (prints a table)
	$(BIN)/python benchmarks/run.py

lock: ## re-pin every package to what the current environment has
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)

distclean: ## remove the virtual environment (data and reports stay)
	rm -rf $(VENV)
