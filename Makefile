# numport: the two commands of the README, and the pieces they are made of.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-partner-change test setup asyncapi lint clean

demo: setup ## start Kafka, PostgreSQL, the sandbox and the services; run a migration end to end and show it
	$(BIN)/numport demo

demo-partner-change: setup ## the second demo: a customer moves its WABA to another partner (360dialog's partner change)
	$(BIN)/python -m deploy.local.demo_partner_change

test: setup ## the whole suite on real Kafka and PostgreSQL (started by the project itself)
	$(BIN)/ruff check --quiet shared services sandbox deploy tests benchmarks numport_cli
	$(BIN)/numport asyncapi --check
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "numport needs Python 3.11 or newer")'
	@command -v java >/dev/null || { echo "numport needs Java 17+ (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "numport needs Maven to fetch the Kafka jars (apt-get install maven)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]" --config-settings editable_mode=compat
	$(BIN)/python -c 'from deploy.local import kafka, postgres; kafka.jars_dir(); postgres.bin_dir()'
	@touch $(STAMP)

asyncapi: setup ## regenerate docs/asyncapi/*.yaml from the code
	$(BIN)/numport asyncapi

lint: setup
	$(BIN)/ruff check shared services sandbox deploy tests benchmarks numport_cli

clean:
	rm -rf $(VENV) .cache
