# Two set-up commands: `make run` (the whole service on embedded defaults) and
# `make test` (every test). Both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 5000
export PORT

.PHONY: install browser run test bench lint typecheck clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed node_modules/.installed

# Browser tests drive Debian's chromium (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install
	$(BIN)/ptsp migrate
	$(BIN)/ptsp deploy --as system || [ $$? -eq 2 ]  # 2: some diagrams/forms refused (reported), the rest deployed
	$(BIN)/ptsp seed-demo
	$(BIN)/python -m app.supervisor

test: install browser
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf var/ .pytest_cache
