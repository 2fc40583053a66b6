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

unit: $(TSTAMP)
	$(BIN)/pytest

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

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	@touch $@

$(TSTAMP): $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) lab-out .mypy_cache .ruff_cache .pytest_cache
