# motcua: `make demo` runs a whole office, `make test` runs the tests.
# Both first set up what they need on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := mosquitto mosquitto-clients libzbar0 xvfb xauth espeak-ng sox \
	libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libmtdev1 fonts-dejavu-core libusb-1.0-0 libxtst6 \
	chromium
# One command each package provides: how we tell the package is already there.
APT_PROBES := /usr/sbin/mosquitto /usr/bin/mosquitto_pub /usr/bin/mosquitto_passwd /usr/bin/Xvfb \
	/usr/bin/espeak-ng /usr/bin/sox /usr/bin/chromium

.PHONY: demo test test-fast lint bench system venv clean lock

demo: system venv
	$(VENV)/bin/motcua demo --config examples/office.toml

test: system venv lint
	$(PY) -m pytest -q --durations=15

# The pure tests (~20 s on two cores): no Mosquitto, no Kivy window, no child process (see tests/conftest.py).
test-fast: venv
	$(PY) -m pytest -q -m "not mqtt and not kivy and not process"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: system venv
	$(PY) bench/run_all.py

system:
	@missing=0; for f in $(APT_PROBES); do [ -e $$f ] || missing=1; done; \
	for lib in libzbar.so.0 libusb-1.0.so.0 libXtst.so.6 libEGL.so.1; do \
	  ldconfig -p | grep -q $$lib || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "motcua needs system packages. Run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y $(APT_PACKAGES)"; \
	    exit 1; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

# After changing dependencies in pyproject.toml: the exact versions, for every machine.
lock: venv
	$(PY) -m pip install -q --upgrade -e '.[dev]'
	{ echo "# Exact versions CI and a fresh machine install (pip -c): regenerate with make lock."; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^motcua'; } > requirements.lock

clean:
	rm -rf $(VENV) var build *.egg-info
