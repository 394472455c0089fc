# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
# CPU torch first, so that the `torch` requirement is already satisfied and pip
# never pulls a multi-GB CUDA build. Override: make TORCH=torch==2.5.1 test
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.geodl-installed
OUT    ?= demo_out

.PHONY: install demo test test-slow bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/geodl demo --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/bench_eigen.py
	$(PY) benchmarks/bench_knn.py
	$(PY) benchmarks/bench_spectral_conv.py
	$(PY) benchmarks/bench_message_passing.py
	$(PY) benchmarks/bench_diffusion_net.py
	$(PY) benchmarks/bench_render.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
