# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
# CPU torch first, so that the `torch` requirement is already satisfied and pip
# never pulls a multi-GB CUDA build. Override: make TORCH=torch==2.5.1 test
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.geodl-installed
DOCS_STAMP := $(VENV)/.geodl-docs-installed
OUT    ?= demo_out
CHROMIUM ?= /usr/bin/chromium

.PHONY: install demo test test-slow test-browser chromium viewer-js bench docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/geodl demo --out $(OUT)

test: $(STAMP) docs
	$(PY) -m ruff check .
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The HTML viewer in headless Chromium (Debian's package; Playwright drives it).
test-browser: $(STAMP) chromium
	$(PY) -m pytest -q tests/viz/test_viewer_browser.py

# Installs Debian's Chromium (as root) only when it is missing.
chromium:
	@test -x $(CHROMIUM) || { test "$$(id -u)" = 0 || { echo "Chromium is missing: run as root, or apt-get install chromium"; exit 1; }; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q chromium || \
	  { apt-get update -q && apt-get install -y -q chromium; }; }

# Rebuilds geodl/viz/static/viewer.js from geodl/viz/web (pinned three.js + esbuild).
viewer-js:
	cd geodl/viz/web && npm ci --no-audit --no-fund && npm run build

bench: $(STAMP)
	$(PY) benchmarks/bench_eigen.py
	$(PY) benchmarks/bench_knn.py
	$(PY) benchmarks/bench_spectral_conv.py
	$(PY) benchmarks/bench_message_passing.py
	$(PY) benchmarks/bench_diffusion_net.py
	$(PY) benchmarks/bench_render.py
	$(PY) benchmarks/bench_fusion.py

# The API reference (Sphinx autodoc + napoleon) and the topic pages in docs/notes,
# built into build/docs; warnings are errors, so every cross-reference resolves.
$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	rm -rf docs/api
	$(PY) -m sphinx -b html -E -q -W --keep-going -n docs build/docs

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build/docs docs/api
