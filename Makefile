# Two commands for a new machine: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1:8000
# DEBUG=1 serves Django's debug pages (tracebacks, the URL list on a 404) instead of the archive's.
DEBUG ?= 0
export ARCHIVE_DATA_DIR ?= $(CURDIR)/var

.PHONY: install setup index run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt $(wildcard package-lock.json)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@# axe-core for the accessibility tests; without npm those tests skip (fail in CI).
	if [ -f package-lock.json ] && command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund; fi
	touch $@

setup: install
	mkdir -p "$(ARCHIVE_DATA_DIR)"
	@# The English interface (locale/en) is compiled here; without gettext's msgfmt the site is
	@# Chinese only and the English tests skip (fail in CI).
	if command -v msgfmt >/dev/null; then $(MANAGE) compilemessages --ignore "$(VENV)" --ignore node_modules --verbosity 0; \
	else echo "msgfmt not found (apt-get install gettext): English interface not compiled"; fi
	$(MANAGE) migrate --noinput
	$(MANAGE) setup_archive
	$(MANAGE) render_pages

index: setup
	$(MANAGE) rebuild_index --noinput
	$(MANAGE) compute_topics

# The indexer is the only process that writes the search index; the web server never does.
run: index
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "讲稿库：http://$(HOST)/  （管理后台：http://$(HOST)/admin/）"
	trap 'kill 0' INT TERM EXIT; \
	$(MANAGE) run_indexer & \
	DJANGO_DEBUG=$(DEBUG) $(MANAGE) runserver $(HOST)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run --settings=config.settings.test

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
