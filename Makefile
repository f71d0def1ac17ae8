# Two entry points: `make run` (the whole default workflow) and `make test`.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spikecut-installed
CORES  ?= all
SNAKEMAKE_ARGS ?=

.PHONY: run report test lint clean-venv

$(STAMP): pyproject.toml tools/install_deps.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/install_deps.py
	touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake --cores 1 --report results/report.html $(SNAKEMAKE_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/snakemake --lint

clean-venv:
	rm -rf $(VENV)
