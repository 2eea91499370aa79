# smtpmtm: every target sets up .venv itself from pinned requirements.
# `make help` lists the targets.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BOARD  ?= sim
PORT   ?= /dev/ttyUSB0
JOBS   ?= 2

.PHONY: help setup test qemu-test demo sim bench reliability chaos mpy deploy cabundle package dist romfs check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP) ## create .venv from the pinned requirements

test: $(STAMP) ## run the whole test suite on CPython, MicroPython and the emulated board
	$(PY) -m pytest -n $(JOBS) -q tests
	$(PY) -m host.qemuboard --if-available

qemu-test: $(STAMP) ## every core test on the emulated 32-bit board (QEMU), ESP32 and Pico W heaps
	$(PY) -m host.qemuboard

demo: $(STAMP) ## the main job: local SMTP server + virtual board + a queued message sent
	$(PY) -m host demo

sim: $(STAMP) ## start the virtual board, flashed as make deploy would, and print the three next commands
	$(PY) -m host sim --board $(BOARD) --frozen --heap 512k  # the unix port keeps code in RAM: 512k, not the board's 64k

bench: $(STAMP) ## measure speed, memory and size against the peers; prints a table
	$(PY) -m host.bench

reliability: $(STAMP) ## run the exhaustive robustness suites (all cut points); prints a table
	$(PY) -m host.reliability

chaos: $(STAMP) ## virtual boards vs a real Postfix under power cuts, resets, restarts; prints a table
	$(PY) -m host.chaos

mpy: $(STAMP) ## compile shared/ and device/ with mpy-cross (BOARD=x for its arch); size table
	$(PY) -m host.mpytable --board $(BOARD)

deploy: $(STAMP) ## copy the compiled code, settings template and CA bundle: make deploy BOARD=x PORT=/dev/ttyUSB0
	$(PY) -m host deploy --board $(BOARD) --port $(PORT)

cabundle: $(STAMP) ## build/ca.pem: the mail providers' root CAs from the pinned certifi (what /certs/ca.pem gets)
	$(PY) -m host.cabundle --out build/ca.pem

package: $(STAMP) ## regenerate package.json (mip) from the tree and smtpmtm.__version__
	$(PY) -m host.package json

dist: $(STAMP) ## build/dist: the modules as .mpy with their own package.json (mip install <url>/package.json)
	$(PY) -m host.package dist

romfs: $(STAMP) ## build/romfs/BOARD.romfs: the .mpy files as a ROMFS image (mpremote romfs deploy it; MicroPython 1.25+)
	$(PY) -m host.package romfs $(BOARD)

check: $(STAMP) ## quick checks: core import rules and a compile of every module
	$(PY) -m pytest -q tests/host/test_core_rules.py
	$(PY) -m host.mpytable > /dev/null

clean: ## remove build output and figures (keeps .venv)
	rm -rf build .bench
