# Two entry points: `make run` (the whole default workflow) and `make test`.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spikecut-installed
CORES  ?= all
SNAKEMAKE_ARGS ?=
# where make run writes the report; empty: report.html in the config's `results:` folder
REPORT ?=

.PHONY: install run test test-fast lint format clean-venv gpu-wheels slurm-plugin

$(STAMP): pyproject.toml spikecut/__init__.py tools/install_deps.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/install_deps.py
	touch $@

# the environment alone, e.g. for the spikecut command
install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m spikecut.settings.files $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	root=$$($(BIN)/python -m spikecut.settings.files --results-root config/config.yaml \
		$(SNAKEMAKE_ARGS)) && report="$(REPORT)" && report=$${report:-$$root/report.html} && \
	$(BIN)/snakemake --cores 1 --report "$$report" $(SNAKEMAKE_ARGS) && \
	echo "Done. Start with $$root/summary/headline.md, then $$report."

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the unit tests alone, for the inner loop: no Snakemake workflow runs
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules

# the SLURM executor plugin, kept out of .venv (see pyproject.toml's slurm extra);
# tests/test_slurm.py puts it on PYTHONPATH
slurm-plugin: $(STAMP)
	$(BIN)/python tools/install_deps.py --target .slurm-plugin slurm

lint: $(STAMP)
	$(BIN)/snakemake --lint

# The GPU machine of bench/gpu_check.sh has no internet: the wheels it lacks
# (tools/gpu-wheels.txt says which), fetched here into .whl/ for its Python 3.12
MANYLINUX := $(foreach v,manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1,--platform $(v)_x86_64)
gpu-wheels:
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp $(MANYLINUX) --platform any -d .whl -r tools/gpu-wheels.txt
	$(PYTHON) -m pip wheel -q --no-deps -w .whl connection-pool==0.0.3

clean-venv:
	rm -rf $(VENV)
