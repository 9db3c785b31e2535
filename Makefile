# OAuth Desk. Every target installs what it needs first (scripts/setup.sh), and only what is missing.
#
#   make run    build and start the app (under a virtual display when there is no screen)
#   make check  the fast loop: formatting, lints, the UI's types and format, and the unit tests
#               of the core and the faces (no .deb, no window, no IdP)
#   make test   formatting, lints and the whole test suite (real IdP, keyring, window)
#   make deb    the .deb and .rpm packages (offline), in <target>/release/bundle/{deb,rpm}/
#               (make rpm is the same)
#   make bench  figures side by side with the peers (oidc-token, raw token endpoint, an empty
#               Tauri app, plain SQLite), plus the token table at 100,000 tokens;
#               ONLY="bulk-refresh" (token-get, window-memory, window-idle, filter, deb) for some rows
#   make fuzz   every parser of outside input under cargo-fuzz, SECS (60) seconds each; not in CI

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
# Where cargo builds; CI points it outside the clone so a later run reuses it.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
export CARGO_TARGET_DIR := $(TARGET_DIR)
# One build for `make run` and `make test`: the same packages with the same flags, so cargo
# unifies the dependencies' features the same way and the second finds everything fresh
# (with different package sets, make run after make test rebuilt tauri and the app).
BUILD := $(CARGO) build --workspace --bins --locked

.PHONY: run check test bench fuzz deb rpm build setup-run setup-test setup-check fmt lint ui-check unit deny

run: setup-run build
	@if [[ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]]; then \
		exec "$(TARGET_DIR)/debug/oauth-desk"; \
	else \
		echo "make run: no display; starting OAuth Desk on a virtual one (xvfb-run)" >&2; \
		exec xvfb-run -a -s "-screen 0 1280x800x24" "$(TARGET_DIR)/debug/oauth-desk"; \
	fi

# Unit tests only (--lib --bins): the end-to-end crate's tests under tests/tests need the IdP and
# a window and stay in make test; its support library's own unit tests are quick and run here.
check: setup-check fmt lint ui-check unit

test: setup-test fmt lint ui-check deny deb build
	$(CARGO) test --workspace --locked --no-fail-fast

deb rpm: setup-run
	scripts/packages.sh

bench: deb
	@scripts/setup.sh bench
	scripts/bench.sh $(ONLY)

fuzz:
	scripts/fuzz.sh $(or $(SECS),60)

build:
	$(BUILD)

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

ui-check:
	tools/ui/node_modules/.bin/prettier --config tools/ui/prettierrc.json --check 'ui/**/*.{js,css}'
	tools/ui/node_modules/.bin/tsc -p tools/ui/tsconfig.json

unit:
	$(CARGO) test --workspace --lib --bins --locked

deny:
	scripts/deny.sh

setup-run:
	@scripts/setup.sh run

setup-check:
	@scripts/setup.sh check

setup-test:
	@scripts/setup.sh test
