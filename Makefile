# Two commands: `make run` and `make test`. Both create the virtual environment if it is missing.
# The Python used must be 3.12 or newer (Mesa 3.5). It is found by itself: python3.13,
# python3.12, python3, then pyenv's versions; `make PYTHON=/path/to/python3.12` overrides.

VENV ?= .venv
BIN := $(VENV)/bin

define find_python
for c in python3.13 python3.12 python3 $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$c; exit 0; fi; \
done; exit 1
endef

PYTHON ?= $(shell $(find_python))

# ABC-SMC population size and stopping distance of `make run`'s calibration (the full size:
# `make full-size`, below)
PARTICLES ?= 200
MIN_EPSILON ?= 1.5
# local processes for every command below (no number depends on them: the calibration runs its
# ABC-SMC runs side by side, each in one process, the only way pyabc gives the same posterior)
WORKERS ?= 2

# the policies make run compares, and the posterior it runs them under (its calibration's)
POLICIES := $(addprefix scenarios/,baseline.toml december_2012.toml historical.toml grants.toml advice.toml \
  evidence.toml tested_models.toml barriers.toml right_to_challenge.toml joined_up.toml)
POSTERIOR := results/calibration/posterior.parquet

.PHONY: run test venv dev clean benchmark lint regression-baseline full-size full-size-verdict full-size-design

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "make: no Python 3.12 or newer found (tried python3.13, python3.12, python3 and pyenv's versions)."; \
	  echo "      Install Python 3.12+ (for instance 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'."; \
	  exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { echo "make: $(PYTHON) is older than 3.12; Mesa 3.5 needs 3.12+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## run the shipped scenarios and write results/ (make run owns these folders: --overwrite)
run: $(VENV)/.installed
	$(BIN)/mutuals run scenarios/*.toml scenarios/validation/bass.toml --out results --overwrite
	$(BIN)/mutuals calibrate scenarios/historical.toml --record scenarios/calibration/record.toml \
	  --particles $(PARTICLES) --min-epsilon $(MIN_EPSILON) --workers $(WORKERS) --readme README.md \
	  --out results/calibration \
	  --overwrite > /dev/null
	$(BIN)/mutuals compare $(POLICIES) --posterior $(POSTERIOR) --draws 200 --replicates 5 --workers $(WORKERS) \
	  --out results/comparison --overwrite
	$(BIN)/mutuals compare $(POLICIES) --replicates 500 --workers $(WORKERS) --out results/comparison_defaults --overwrite
	$(BIN)/mutuals tipping scenarios/baseline.toml --posterior $(POSTERIOR) --draws 100 --replicates 5 \
	  --workers $(WORKERS) --out results/tipping --overwrite
	$(BIN)/mutuals phase scenarios/joined_up.toml --max-intensity 1 --steps 9 --posterior $(POSTERIOR) \
	  --draws 30 --replicates 3 --workers $(WORKERS) --out results/phase --overwrite
	$(BIN)/mutuals verdict --out results/verdict --overwrite --readme README.md --workers $(WORKERS) \
	  --replicates 400 --sobol 0 \
	  --posterior $(POSTERIOR)
	$(BIN)/mutuals design --posterior $(POSTERIOR) --nfe 60 --population 20 --draws 30 --replicates 2 --seeds 3 \
	  --rescore-draws 100 --rescore-replicates 2 --workers $(WORKERS) \
	  --out results/design --overwrite

## the full-size calibration, with the recovery from synthetic records (2 processes):
## results/calibration_full/, and its report committed as docs/full_size.md
full-size: $(VENV)/.installed
	$(BIN)/mutuals calibrate scenarios/historical.toml --record scenarios/calibration/record.toml \
	  --particles 400 --min-epsilon 1.1 --recovery 20 --workers 2 --out results/calibration_full --overwrite > /dev/null
	{ echo "<!-- written by make full-size from results/calibration_full/calibration.md: do not edit -->"; \
	  echo; sed 's#](fit.png)#](full_size_fit.png)#' results/calibration_full/calibration.md; } > docs/full_size.md
	cp results/calibration_full/fit.png docs/full_size_fit.png

## the verdict under the full-size posterior (after make full-size): results/verdict_full/, and its
## report, tables (the prior's hypercube, lhs.csv, aside) and figures committed as docs/full_size_verdict/
full-size-verdict: $(VENV)/.installed
	@start=$$(date +%s); \
	$(BIN)/mutuals verdict --out results/verdict_full --overwrite --workers $(WORKERS) --replicates 1000 \
	  --posterior results/calibration_full/posterior.parquet --posterior-particles 400 --posterior-replicates 8 \
	  --structure-particles 100 --lhs 2000 --sobol 0 --sensitivity 4096 || exit 1; \
	seconds=$$(( $$(date +%s) - start )); \
	rm -rf docs/full_size_verdict && mkdir -p docs/full_size_verdict && \
	cp results/verdict_full/*.png results/verdict_full/*.csv docs/full_size_verdict/ && \
	rm docs/full_size_verdict/lhs.csv && \
	{ echo "<!-- written by make full-size-verdict from results/verdict_full/verdict.md: do not edit -->"; echo; \
	  echo "*Computed by \`make full-size-verdict\` in $$((seconds / 60)) min $$((seconds % 60)) s with $(WORKERS) workers," \
	    "$$(date -u +%Y-%m-%d), from the posterior of \`make full-size\`; the prior's hypercube, \`lhs.csv\`," \
	    "stays in \`results/verdict_full/\`.*"; echo; \
	  cat results/verdict_full/verdict.md; } > docs/full_size_verdict/verdict.md

## the support design under the full-size posterior (after make full-size): results/design_full/, and
## its report, tables and figures committed as docs/full_size_design/
full-size-design: $(VENV)/.installed
	@start=$$(date +%s); \
	$(BIN)/mutuals design --posterior results/calibration_full/posterior.parquet --nfe 5000 --population 100 \
	  --draws 200 --replicates 1 --seeds 3 --rescore-draws 400 --rescore-replicates 2 --workers $(WORKERS) \
	  --out results/design_full --overwrite || exit 1; \
	seconds=$$(( $$(date +%s) - start )); \
	rm -rf docs/full_size_design && mkdir -p docs/full_size_design && \
	cp results/design_full/*.png results/design_full/*.csv results/design_full/manifest.json docs/full_size_design/ && \
	{ echo "<!-- written by make full-size-design from results/design_full/design.md: do not edit -->"; echo; \
	  echo "*Computed by \`make full-size-design\` in $$((seconds / 60)) min $$((seconds % 60)) s with $(WORKERS) workers," \
	    "$$(date -u +%Y-%m-%d), from the posterior of \`make full-size\`.*"; echo; \
	  cat results/design_full/design.md; } > docs/full_size_design/design.md

## run the whole test suite
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

## rewrite the seeded regression baseline (tests/data/regression.csv); review its diff
regression-baseline: $(VENV)/.installed-dev
	$(BIN)/python -m tests.regression

benchmark: $(VENV)/.installed
	$(BIN)/python benchmarks/engines.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check sim tests benchmarks

clean:
	rm -rf $(VENV) results/*/ .pytest_cache
