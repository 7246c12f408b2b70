# stackctl: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test run lint docs bench clean engine

install: $(STAMP)

# Re-install whenever the project's metadata changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The engine tests need a Docker engine and the local test images: prepared here when the
# machine allows it (an engine that answers, or root to install and start one); otherwise they
# skip with the reason (and fail under STACKCTL_REQUIRE_DOCKER=1, as in CI).
test: $(STAMP)
	@bash scripts/engine.sh --status >/dev/null 2>&1 || bash scripts/engine.sh \
		|| echo "make test: no Docker engine could be prepared; the engine tests will skip"
	@bash scripts/git-servers.sh --status >/dev/null 2>&1 || bash scripts/git-servers.sh \
		|| echo "make test: git/sshd could not be installed; the repository tests will fail"
	@bash scripts/registry.sh --status >/dev/null 2>&1 || bash scripts/registry.sh \
		|| echo "make test: docker-registry could not be installed; the image-update tests will skip"
	@bash scripts/deploy-tools.sh --status >/dev/null 2>&1 || bash scripts/deploy-tools.sh \
		|| echo "make test: debootstrap/systemd-analyze missing; the deploy tests will skip"
	@bash scripts/browser.sh --status >/dev/null 2>&1 || bash scripts/browser.sh >/dev/null \
		|| echo "make test: chromium could not be installed; the browser tests will skip"
	@bash scripts/oidc-provider.sh --status >/dev/null 2>&1 || bash scripts/oidc-provider.sh \
		|| echo "make test: node or the test OpenID provider could not be installed; the sign-in tests will skip"
	$(BIN)/pytest $(PYTEST_ARGS)

# The engine first (installs and starts dockerd and the example's image when missing; root).
run: $(STAMP) engine
	$(BIN)/stackctl run --manifests ./manifests

lint: $(STAMP)
	$(BIN)/ruff check controller tests bench
	$(BIN)/lint-imports

# The docs site (mkdocs.yml, docs/) into site/; --strict: a broken link or anchor fails, as in
# tests/docs. `$(BIN)/mkdocs serve` serves it on 127.0.0.1:8000 while you edit.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

# Install (apt) and start a local Docker engine and build the test images; needs root.
# Idempotent. Engine tests skip without it, unless STACKCTL_REQUIRE_DOCKER=1 (as in CI).
engine:
	bash scripts/engine.sh

bench: $(STAMP)
	$(BIN)/python bench/queue.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
