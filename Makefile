# OrderHub: `make rehearse` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup test soak test-cluster demo-cluster lint rehearse bench clean fonts capacity
# Debian packages the project needs besides Python's: a CJK font for the plots' and the
# browser's Chinese (sim/capacity/plots.py, tests/browser/test_cjk_font.py)
APT_PACKAGES := fonts-wqy-microhei
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

setup: $(STAMP) fonts

fonts:
	@test -f $(CJK_FONT) || ! command -v apt-get >/dev/null || \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) >/dev/null)) || \
	  echo "setup: could not install $(APT_PACKAGES); the report's plots need a CJK font"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

test: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# the long live runs `make test` skips to stay inside 20 minutes (tests marked soak)
soak: setup
	ORDERHUB_SOAK=1 $(PY) -m pytest -m soak

# the hub on a 2-node Ray cluster of its own (also part of `make test`)
test-cluster: setup
	$(PY) -m pytest -m cluster tests/cluster tests/test_cluster.py

demo-cluster: setup
	$(PY) examples/cluster/demo.py

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

rehearse: setup
	$(VENV)/bin/orderhub rehearse double11-42k --out var/rehearsal

capacity: setup
	$(VENV)/bin/orderhub capacity double11-42k --out var/capacity

bench: setup
	$(PY) -m benchmarks.domain
	$(PY) -m benchmarks.ledger
	$(PY) -m benchmarks.hub
	$(PY) -m benchmarks.hub_bound
	$(PY) -m benchmarks.cluster

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
