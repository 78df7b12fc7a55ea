# Set-up is part of every target: a fresh machine needs nothing but Python 3.11.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The report tests render report.html in a real browser: Debian's chromium, installed with
# apt-get when missing (root, or sudo when there is one). A failed install stops `make test`.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
# the wheel is tried in a virtual environment of its own
WHEEL_VENV := build/wheel-venv

.PHONY: run test lint docs notebooks wheel validate bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/scoresim run --out out/default

chromium:
	@test -x $(CHROMIUM) || { echo "installing chromium (apt-get) for the report tests"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is still missing" >&2; exit 1; }

# the documentation site (mkdocs.yml, docs/): --strict fails on a broken link or a warning
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# the tutorial notebooks, made from their pages in docs/tutorials/
notebooks: $(STAMP)
	$(BIN)/python notebooks/make_notebooks.py

# build the wheel, install it in a virtual environment of its own and run it there. The
# environment is made afresh (with the wheel's dependencies, from its metadata) on a fresh
# clone and whenever pyproject.toml changes; the wheel itself is reinstalled every time.
$(WHEEL_VENV)/.made: pyproject.toml
	rm -rf $(WHEEL_VENV)
	$(PY) -m venv $(WHEEL_VENV)
	touch $@

wheel: $(STAMP) $(WHEEL_VENV)/.made
	rm -rf dist $(WHEEL_VENV)/wheel-run
	$(BIN)/python -m build --wheel --no-isolation --outdir dist . > /dev/null
	$(WHEEL_VENV)/bin/pip install --quiet dist/scoresim-*.whl
	$(WHEEL_VENV)/bin/pip install --quiet --no-deps --force-reinstall dist/scoresim-*.whl
	cd $(WHEEL_VENV) && bin/scoresim run --agents 2000 --days 10 --quiet --out wheel-run
	test -s $(WHEEL_VENV)/wheel-run/report.html && test -s $(WHEEL_VENV)/wheel-run/summary.json
	test -s $(WHEEL_VENV)/wheel-run/figures/score-mean.svg
	@echo "wheel: $$(ls dist/*.whl) installs and runs"

test: $(STAMP) chromium
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/pytest
	$(MAKE) docs wheel

validate: $(STAMP)
	$(BIN)/scoresim validation --out out/validation

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_default.py

clean:
	rm -rf $(VENV) out site dist build .pytest_cache
