# The README's two commands: `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.chorus-installed

.PHONY: demo test lint bench lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first; left to sentence-transformers, pip would fetch CUDA (GBs).
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chorus demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (Playwright's own download is not used).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y chromium \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

# The Spark tests run Spark in local mode, on Java 17.
JAVA := /usr/bin/java
$(JAVA):
	$(SUDO) apt-get install -y openjdk-17-jre-headless \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y openjdk-17-jre-headless)

test: lint $(CHROMIUM) $(JAVA)
	$(BIN)/python -m pytest -q

bench: $(STAMP) $(CHROMIUM) $(JAVA)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]' -c constraints.txt
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/reuse_quality.py
	$(BIN)/python bench/reuse_speed.py
	$(BIN)/python bench/points_quality.py
	$(BIN)/python bench/points_seeds.py
	$(BIN)/python bench/points_planted.py
	$(BIN)/python bench/points_speed.py
	$(BIN)/python bench/match_quality.py
	$(BIN)/python bench/watch_planted.py
	$(BIN)/python bench/coord_quality.py --docs 1000
	$(BIN)/python bench/coord_speed.py
	$(BIN)/python bench/serve_load.py
	$(BIN)/python bench/spark_scale.py --docs 2000 --stages reuse,points,coord

# Pin what .venv holds now (after upgrading a dependency on purpose, and running the tests).
lock: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^torch=='; } > constraints.new
	mv constraints.new constraints.txt
	touch $(STAMP)  # .venv is what the file now says: no reinstall

clean:
	rm -rf $(VENV) chorus-demo.duckdb chorus-demo-report.html
