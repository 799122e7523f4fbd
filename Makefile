# mediaops.streaming developer entry points.
#   make demo   set up .venv, start the local emulators, run the demo playbook
#   make test   set up .venv, run ruff, changelog lint, ansible-test sanity,
#               unit and integration tests, and print one summary
#   make stress set up .venv, run the stress tests (tests/stress: a fleet of
#               200 channels, replay-safe ScaleEngine signatures from 10 forks,
#               the restart playbook killed after each step), print one summary
#   make bench  set up .venv, measure against the emulators (10-15 min): the
#               restart of 1, 10 and 50 live channels, hand-written
#               ansible.builtin.uri playbook (tests/benchmarks/uri_restart.yml)
#               vs the restart_session role (module path, fast path, Mitogen);
#               per-task time of each module vs ping; HTTP requests per
#               operation vs the API floor; a loop over 1,000 unchanged points;
#               targets judged met / NOT met. BENCH_ARGS=--quick: a smoke run
#   make release-check  what Galaxy and collection CI run on a release: ansible-lint
#               at the repository root, the built tarball's contents, galaxy-importer,
#               antsibull-changelog release, ansible-builder create (tests/release)
#   make docs   build the documentation site with antsibull-docs into docs/build/
#   make docs-test  build it and open it in headless Chromium (Debian's chromium)
#   make test-oldest  the unit and integration tests on the oldest supported pair,
#               ansible-core 2.19 with Python 3.11, in .venv-oldest
# Python 3.12+ is needed for ansible-core 2.21; override with PYTHON=/path/to/python3.12.

# The first candidate that really runs and is 3.12+ (a pyenv shim for a version
# that is not activated exists but fails, so existence alone is not enough).
PYTHON ?= $(shell for candidate in python3.12 "$$(pyenv prefix 3.12 2>/dev/null)/bin/python3.12" python3.13 "$$(pyenv prefix 3.13 2>/dev/null)/bin/python3.13" python3; do \
	"$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$candidate"; break; }; done)
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt tests/requirements.txt

.PHONY: demo test stress bench release-check docs docs-test test-oldest venv clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer not found: install it or run make PYTHON=/path/to/python3.12" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { echo "$(PYTHON) is older than 3.12 (ansible-core 2.21 needs 3.12+)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --quiet -r tests/requirements.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV_PY) -m tests.demo.run

test: $(STAMP)
	$(VENV_PY) tests/run_tests.py

stress: $(STAMP)
	$(VENV_PY) -m tests.stress.run

bench: $(STAMP)
	$(VENV_PY) -m tests.benchmarks.run $(BENCH_ARGS)

release-check: $(STAMP)
	$(VENV_PY) -m tests.release.run

docs: $(STAMP)
	$(VENV_PY) -m tests.docs.build

docs-test: $(STAMP)
	$(VENV_PY) -m pytest tests/docs -p no:cacheprovider --ansible-unit-inject-only -q -rfEs

# Python 3.11 for the oldest pair: the first that runs.
PYTHON_OLDEST ?= $(shell for candidate in python3.11 "$$(pyenv prefix 3.11 2>/dev/null)/bin/python3.11" python3; do \
	"$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 && { command -v "$$candidate"; break; }; done)

test-oldest:
	@test -n "$(PYTHON_OLDEST)" || { echo "Python 3.11 not found: install it or run make PYTHON_OLDEST=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON_OLDEST) tests/run_oldest.py

clean:
	rm -rf $(VENV) .venv-oldest .cache tests/output docs/build
