# Stratus: `make demo` runs everything on devcloud; `make run` runs it against the cloud of OS_AUTH_URL; `make test`
# runs the whole suite. Each sets itself up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The state folder (database, keys, embedded Redis, static files): STRATUS_STATE_DIR when set, else .state here.
STATE := $(or $(STATE),$(STRATUS_STATE_DIR),$(CURDIR)/.state)
DEVCLOUD_PORT ?= 5000
WEB_PORT ?= 8000
CONSOLE_PORT ?= 6080
PYTEST_WORKERS ?= 3

export PATH := $(BIN):$(PATH)

.PHONY: setup run demo test test-rabbitmq test-cloud lint format bench bench-realcloud messages screenshots clean lock audit dist

# Installed from the lock: every package (transitive ones too) pinned and checked against its hash.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-schemas.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-schemas.txt
	touch $@

# Re-lock after editing requirements.in or requirements-dev.in: requirements.txt is what a deployment installs
# (runtime only), requirements-dev.txt adds the test, demo and lint tools with the same runtime pins. Both hold
# every transitive dependency, pinned and hashed, for every platform on Python 3.11+ (uv's universal resolution).
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
lock: $(VENV)/.installed
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt
	$(LOCK) --no-deps requirements-schemas.in -o requirements-schemas.txt

# Known vulnerabilities in the locked versions (pip-audit asks PyPI's JSON API about each pinned release).
audit: $(VENV)/.installed
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements.txt
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements-dev.txt
	$(BIN)/pip-audit --strict --require-hashes --disable-pip --no-deps -r requirements-schemas.txt

# The venv from the lock. It writes nothing else: `make run` and `make demo` migrate the database of their state folder.
setup: $(VENV)/.installed

# Stratus against any cloud, with the environment it is given (README: Pointing it at a real cloud; every variable in
# docs/configuration.md): migrate, collectstatic, then the Procfile's web, worker, console (and the embedded Redis
# when REDIS_URL is unset) until Ctrl-C. No bytecode caches either: with STRATUS_STATE_DIR set, nothing is written here.
run: export PYTHONDONTWRITEBYTECODE = 1
run: $(VENV)/.installed
	$(BIN)/python -m dashboard.run

demo: export STRATUS_STATE_DIR = $(STATE)
demo: export STRATUS_DEV_KEYS = true
demo: export OS_AUTH_URL = http://127.0.0.1:$(DEVCLOUD_PORT)/identity/v3
demo: export OS_CLIENT_CONFIG_FILE = $(STATE)/devcloud/clouds.yaml
demo: export STRATUS_SERVICE_CLOUD = devcloud-service
demo: export STRATUS_CONSOLE_PROXY_PORT = $(CONSOLE_PORT)
demo: export DEVCLOUD_PORT := $(DEVCLOUD_PORT)
demo: export WEB_PORT := $(WEB_PORT)
demo: setup
	@echo ""
	@echo "  Stratus is starting: http://127.0.0.1:$(WEB_PORT)"
	@echo "  Sign in as a member: demo / demo      (domain Default)"
	@echo "  Sign in as an admin: admin / admin    (domain Default)"
	@echo "  The embedded cloud (devcloud) listens on http://127.0.0.1:$(DEVCLOUD_PORT); Ctrl-C stops everything."
	@echo ""
	$(BIN)/python -m dashboard.run devcloud web worker console

test: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The operations tests (crash safety, no duplicate server, retries, secrets, metrics) with RabbitMQ as the Celery
# broker instead of Redis: make test-rabbitmq BROKER=amqp://user:password@host:5672/vhost
BROKER ?= amqp://guest:guest@127.0.0.1:5672//
test-rabbitmq: setup
	CELERY_BROKER_URL=$(BROKER) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup tests/operations $(PYTEST_ARGS)

# Every cloud-facing test against a real cloud: make test-cloud CLOUD=realcloud-admin,realcloud-demo
test-cloud: setup
	STRATUS_TEST_CLOUD=$(CLOUD) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# ruff, then mypy (strict, with django-stubs: [tool.mypy] in pyproject.toml) over apps/ and dashboard/. The django-stubs
# plugin imports the settings: it gets keys that seal nothing and a Redis it never connects to.
MYPY_ENV := SECRET_KEY=mypy-only STRATUS_FERNET_KEY=bXlweS1yZWFkcy1zZXR0aW5ncy1uby1zZWNyZXQtMDA= \
	REDIS_URL=redis://127.0.0.1:1/0
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env $(MYPY_ENV) $(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	STRATUS_DEV_KEYS=true $(BIN)/python -m bench $(BENCH_ARGS)

# Against a real cloud (default ../shared/realcloud's realcloud-admin,realcloud-demo), beside Horizon running on :8081
# (../shared/horizon/start.sh): the side-by-side table, then the pages against their floors (docs/performance.md).
bench-realcloud: setup
	STRATUS_DEV_KEYS=true $(BIN)/python -m bench.sidebyside $(BENCH_ARGS)
	STRATUS_DEV_KEYS=true $(BIN)/python -m bench.realcloud

# Every page (signed out, member, admin, with data) in the light and dark themes, in Vietnamese, and on a phone
# (390 px, English and Vietnamese), as PNGs under .state/screenshots/ (not tracked): the accessibility and phone
# layout browser tests take them as they walk the pages (tests/browser/tour.py). docs/screenshot.png is
# light/member-instances.png.
SCREENSHOTS ?= $(STATE)/screenshots
screenshots: setup
	rm -rf $(SCREENSHOTS)
	STRATUS_SCREENSHOTS=$(SCREENSHOTS) $(BIN)/pytest -n 2 --dist loadgroup \
		tests/browser/test_accessibility.py tests/browser/test_phone_layout.py -k "not navigation"
	@echo "Screenshots: $(SCREENSHOTS)/{light,dark,vi,phone,phone-vi}/"

# Refresh the translation catalogues (English source, Vietnamese) and compile them.
# From the root (the project catalogue, locale/, holds the strings of apps without their own), then each app's
# own catalogue again from inside the app, as tests/test_i18n.py extracts them (paths relative to the app).
messages: export STRATUS_DEV_KEYS = true
messages: $(VENV)/.installed
	$(BIN)/python -m dashboard.devstate
	$(BIN)/python manage.py makemessages --locale vi --ignore '.venv/*' --ignore 'devcloud/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete
	for app in apps/*/locale; do (cd $$(dirname $$app) && $(BIN)/python $(CURDIR)/manage.py makemessages --locale vi --no-obsolete) || exit 1; done
	$(BIN)/python manage.py compilemessages --locale vi --ignore '.venv/*'

# The release: a wheel of Stratus (apps/ and dashboard/ with the templates, static files and compiled catalogues, the
# `stratus` command) in dist/, built with this venv's setuptools; `pip install dist/stratus-*.whl` installs it.
dist: $(VENV)/.installed
	rm -rf build dist *.egg-info
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	rm -rf build *.egg-info
	@ls dist/*.whl

clean:
	rm -rf $(VENV) $(CURDIR)/.state staticfiles build dist *.egg-info
