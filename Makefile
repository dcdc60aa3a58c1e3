# Two commands: `make reports` builds the course's output, `make test` runs every test.
# Both create the virtual environment in .venv when it is missing or out of date.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: reports test unit notebooks lab bench env clean-reports

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	-$(PY) -m helpers.reports --fetch-assets
	@touch $(STAMP)

## The course's main output: every notebook executed in standard mode, reports/*.html, checkpoints.
reports: $(STAMP)
	$(PY) -m helpers.reports

## The whole test suite in quick mode: unit tests, the notebooks through nbval, then the browser tests
## (JupyterLab driven by the system's Chromium; screenshots in test-output/browser/) when Chromium is installed.
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
test: $(STAMP)
	GAN_COURSE_MODE=quick $(PY) -m pytest -q tests
	GAN_COURSE_MODE=quick $(PY) -m pytest -q --nbval notebooks
	@if [ -n "$(CHROMIUM)" ]; then \
		echo "GAN_COURSE_MODE=quick CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser"; \
		GAN_COURSE_MODE=quick CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser; \
	else \
		echo "Browser tests skipped: Chromium is not installed (Debian/Ubuntu: sudo apt-get install chromium; then make test)."; \
	fi

## Open the course in JupyterLab (standard mode unless GAN_COURSE_MODE says otherwise).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

## Benchmarks, about 1 h on a 2-core CPU (run it on a quiet machine); write bench/results.md:
## training throughput per model (helpers.train vs a bare loop), each model's time to its digit bar (and the
## course DCGAN vs the PyTorch example), restoring 100 digits with notebook 05's search, each notebook's quick/standard run time and kernel peak memory.
## Standard-mode times come from the last `make reports`; `make bench BENCH_STANDARD=run` rebuilds the
## reports first (+45 min). Each script in bench/ has --help and small flags for a quick try.
BENCH_STANDARD ?= index
bench: $(STAMP)
	$(PY) bench/bench_training.py --steps 600 --repeats 5
	$(PY) bench/bench_time_to_bar.py
	$(PY) bench/bench_restore.py
	$(PY) bench/bench_notebooks.py --standard $(BENCH_STANDARD)

clean-reports:
	rm -rf reports
