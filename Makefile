# authaudit: `make demo` and `make test` are the two entry points (see README.md).
# Both work on a fresh Debian 12 machine as root: missing Python venv support and the system
# peers the tests drive (tshark, tcpdump, postfix, dovecot, swaks, john, mariadb) are installed
# with apt.

SHELL   := /bin/bash
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test

.PHONY: demo test lint typecheck unit lab bench bench-logs sysdeps venv clean

demo: $(STAMP)
	$(BIN)/authaudit demo

test: $(TSTAMP) sysdeps lint typecheck unit

lint: $(TSTAMP)
	$(BIN)/ruff check .

typecheck: $(TSTAMP)
	$(BIN)/mypy

# The suite runs against the compiled build (sysdeps installs the compiler); a build that fell
# back to plain Python fails tests/test_build.py here.
unit: $(TSTAMP)
	AUTHAUDIT_EXPECT_COMPILED=1 $(BIN)/pytest

# Real Postfix + Dovecot SASL on loopback, driven by swaks and smtplib, captured by tcpdump,
# then decoded: prints what authaudit found next to what was sent.
lab: $(STAMP) sysdeps
	rm -rf lab-out
	$(BIN)/python -m tests.lab.lab lab-out
	$(BIN)/authaudit pcap --show-secrets --wordlist lab-out/lab.wordlist.txt lab-out/lab.pcap \
		|| test $$? -eq 1
	@echo "ground truth: lab-out/lab.truth.tsv"

bench: $(STAMP) sysdeps
	$(BIN)/python bench/pcap_bench.py

bench-logs: $(STAMP) sysdeps
	$(BIN)/python bench/logs_bench.py

sysdeps:
	@bash scripts/sysdeps.sh

venv: $(BIN)/python

$(BIN)/python:
	@bash scripts/python-venv.sh "$(PYTHON)" "$(VENV)"

# The modules setup.py compiles with mypyc: a change to one of them reinstalls (recompiles).
COMPILED := $(shell sed -n 's/^    "\(authaudit\/[^"]*\.py\)",$$/\1/p' setup.py)

$(STAMP): $(BIN)/python pyproject.toml setup.py $(COMPILED)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	@$(BIN)/authaudit --version
	@touch $@

# The test extra's requirements only: `pip install -e '.[test]'` would build the package again.
$(TSTAMP): $(STAMP)
	$(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", \
		"rb"))["project"]["optional-dependencies"]["test"]))' > $(VENV)/test-requirements.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r $(VENV)/test-requirements.txt
	@touch $@

clean:
	rm -rf $(VENV) lab-out .mypy_cache .ruff_cache .pytest_cache
