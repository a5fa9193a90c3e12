# rnnkit developer tasks. `make test` works from a fresh clone: it builds .venv first.
PYTHON      ?= python3
VENV        := .venv
VPY         := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
CONSTRAINTS := $(CURDIR)/constraints.txt
# Lint only the directories that exist (benchmarks/ and examples/ may not yet).
LINT_DIRS   := $(wildcard src tests benchmarks examples)

.PHONY: venv lint test demo bench clean

venv: $(STAMP)

# Reinstall only when the project metadata or the lock file changes. PIP_CONSTRAINT (not only
# -c) so the isolated build environment of the editable install is pinned too. pip itself is
# not upgraded: nothing is fetched that the lock file does not name.
$(STAMP): pyproject.toml constraints.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CONSTRAINTS) $(VPY) -m pip install --disable-pip-version-check \
		-c $(CONSTRAINTS) -e '.[dev]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check $(LINT_DIRS)

test: venv
	$(MAKE) lint
	$(VENV)/bin/pytest -q

demo: venv
	$(VPY) examples/quickstart.py

bench: venv
	$(VPY) -m benchmarks.bench_core
	$(VPY) -m benchmarks.bench_reference

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
