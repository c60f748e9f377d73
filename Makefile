# Symphony: two commands do all the set-up on a fresh Debian/Ubuntu machine.
#   make demo   - install everything, then compose a piece with the shipped model into demo/
#   make test   - install everything, then run the test suite
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SYSTEM  := .cache/.system-packages
STUDIO  := symphony/server/static/index.html
STUDIO_SOURCES := $(wildcard studio/src/*) studio/index.html studio/package.json studio/package-lock.json \
                  studio/vite.config.ts studio/tsconfig.json
PROMPT  ?= a lively Irish jig in D major

.PHONY: setup demo test bench data train clean

setup: $(STAMP) $(SYSTEM) $(STUDIO)

# FluidSynth (the synth), a General MIDI SoundFont and cairo (cairosvg draws the PDF) come from
# Debian's packages; so do Node.js and npm (they build the studio) and Chromium (the studio's
# end-to-end tests drive it through Playwright; Playwright downloads no browser of its own), and
# PostgreSQL (the tests start a throwaway server of it: tests/postgres.py).
$(SYSTEM): Makefile
	@if ! command -v fluidsynth >/dev/null || [ ! -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] \
	    || ! ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2' \
	    || ! command -v chromium >/dev/null || ! command -v npm >/dev/null \
	    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    fluidsynth fluid-soundfont-gm libcairo2 chromium postgresql \
	    $$(command -v npm >/dev/null || echo nodejs npm); \
	fi
	@mkdir -p $(dir $@) && touch $@

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

# The studio (studio/, TypeScript) is built into the Python package when its sources change.
$(STUDIO): $(STUDIO_SOURCES) | $(SYSTEM)
	cd studio && npm ci --no-audit --no-fund && npm run build

demo: setup
	$(BIN)/symphony generate "$(PROMPT)" --seed 1 -o demo
	@echo "Listen to demo/music.wav, read demo/music.musicxml (or demo/music.svg), see demo/music.json"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m benchmarks.run

data: setup
	$(BIN)/symphony data stats

train: setup
	$(BIN)/symphony train --out runs/default

clean:
	rm -rf $(VENV) .pytest_cache demo studio/node_modules symphony/server/static
