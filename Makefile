# Two commands: `make reports` builds the course's output, `make test` runs every test.
# Both create the virtual environment in .venv when it is missing or out of date.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: reports test unit notebooks lab bench lessons env clean-reports

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	-$(PY) -m tools.reports --fetch-assets
	@touch $(STAMP)

## The course's main output: every notebook executed in standard mode, reports/*.html, checkpoints.
## Exits non-zero, naming each failed notebook and claim, after writing every report.
reports: $(STAMP)
	$(PY) -m tools.reports

## The whole test suite in quick mode: unit tests (spread over the CPU's cores by pytest-xdist, at most 4 workers, one torch
## thread each), the notebooks through nbval, then the browser tests
## (JupyterLab driven by the system's Chromium; screenshots in test-output/browser/) when Chromium is installed.
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
test: $(STAMP)
	GAN_COURSE_MODE=quick $(PY) -m pytest -q -n auto --maxprocesses 4 tests
	GAN_COURSE_MODE=quick $(PY) -m pytest -q --nbval notebooks
	@if [ -n "$(CHROMIUM)" ]; then \
		echo "GAN_COURSE_MODE=quick CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser"; \
		GAN_COURSE_MODE=quick CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser; \
	else \
		echo "Browser tests skipped: Chromium is not installed (Debian/Ubuntu: sudo apt-get install chromium; then make test)."; \
	fi

## Export the notebooks' #@save cells to helpers/lessons/ (after editing such a cell; tests/test_lessons.py
## fails until the modules match the notebooks).
lessons: $(STAMP)
	$(PY) -m tools.export_cells

## Open the course in JupyterLab (standard mode unless GAN_COURSE_MODE says otherwise).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

## Benchmarks, about 1 h on a 2-core CPU (run it on a quiet machine); write bench/results.md:
## where each model's step spends its time (torch.profiler), training throughput per model (helpers.train vs a bare loop), each model's time to its digit bar (and the
## course DCGAN vs the PyTorch example), restoring 100 digits with notebook 05's search, each notebook's quick/standard run time and kernel peak memory.
## Standard-mode times come from the last `make reports`; `make bench BENCH_STANDARD=run` rebuilds the
## reports first (+45 min). Each script has --help and small flags for a quick try: $(PY) -m bench.bench_training --help.
BENCH_STANDARD ?= index
bench: $(STAMP)
	$(PY) -m bench.profile_steps
	$(PY) -m bench.bench_training --steps 600 --repeats 5
	$(PY) -m bench.bench_time_to_bar
	$(PY) -m bench.bench_restore
	$(PY) -m bench.bench_notebooks --standard $(BENCH_STANDARD)

clean-reports:
	rm -rf reports

.PHONY: exercises grade

## The student edition: exercises/NN_name.ipynb from notebooks/ (built, git-ignored), each exercise's
## solution replaced by a stub that raises NotImplementedError naming it.
exercises: $(STAMP)
	$(PY) -m tools.exercises

## Grade a filled-in student notebook in quick mode: one row per exercise; exits 1 if any failed.
grade: $(STAMP)
	@test -n "$(NOTEBOOK)" || { echo "Say which notebook: make grade NOTEBOOK=exercises/01_vanilla_gan.ipynb"; exit 2; }
	$(PY) -m tools.grade "$(NOTEBOOK)"
