"""Stratus settings: one module, driven by environment variables (see docs/configuration.md).

With DEBUG off (the default) Stratus is in production and refuses to start without SECRET_KEY and
STRATUS_FERNET_KEY; production also sets ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and the cloud. A laptop demo or the
tests set STRATUS_DEV_KEYS=true (the Makefile, the test harness): keys generated under STRATUS_STATE_DIR, SQLite and
an embedded Redis there, devcloud on 127.0.0.1:5000.

This module only reads: the environment, and the files dashboard/devstate.py wrote into the state folder before
the processes started (generated keys, the embedded Redis' password). Importing it creates no file and starts no
process (tests/deploy/test_settings_import.py).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from dashboard import devstate, embedded_redis
from dashboard.env import env, env_bool, env_float, env_int, env_list

PACKAGE_DIR = Path(__file__).resolve().parent  # the site's templates, static files and catalogue ship inside it
STATE_DIR = devstate.state_dir(os.environ)
# What a run on one machine keeps here (0700, made by dashboard/devstate.py): the SQLite database (sessions),
# generated keys, the embedded Redis' files.
_PREPARE = "python -m dashboard.devstate (make run, make demo and the tests do it before starting anything)"

DEBUG = env_bool("DEBUG", False)
# Generated keys (kept in the state directory) only for a run that asks for them: DEBUG on, or STRATUS_DEV_KEYS=true
# (`make demo`, the tests, `make bench`). Anything else is production and must bring its own keys.
DEV_KEYS = DEBUG or env_bool("STRATUS_DEV_KEYS", False)
# Production turns on TLS-only cookies and HSTS, JSON logs and hashed static file names unless each is set explicitly.
PRODUCTION = not DEV_KEYS
SECRET_KEY = env("SECRET_KEY")
# The Fernet key (32 url-safe base64 bytes) that seals the Keystone tokens at rest: the worker's copy on an operation
# row, and the one in the session. The same on every web and worker process.
STRATUS_FERNET_KEY = env("STRATUS_FERNET_KEY")
_missing = [
    name for name, value in [("SECRET_KEY", SECRET_KEY), ("STRATUS_FERNET_KEY", STRATUS_FERNET_KEY)] if not value
]
if _missing and not DEV_KEYS:
    raise ImproperlyConfigured(
        f"{' and '.join(_missing)} must be set: with DEBUG off Stratus runs as production and needs its own keys "
        "(or NAME_FILE naming a file that holds one; see docs/configuration.md). For a demo or the tests on one "
        "machine, set STRATUS_DEV_KEYS=true to generate them under STRATUS_STATE_DIR."
    )


def _generated(name: str) -> str:
    try:
        return (STATE_DIR / name).read_text().strip()
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"STRATUS_DEV_KEYS is on but no generated key is in {STATE_DIR / name}: prepare the state folder with "
            + _PREPARE
        ) from None


SECRET_KEY = SECRET_KEY or _generated("secret_key")
STRATUS_FERNET_KEY = STRATUS_FERNET_KEY or _generated("fernet_key")
try:
    Fernet(STRATUS_FERNET_KEY)
except ValueError:
    raise ImproperlyConfigured(
        "STRATUS_FERNET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); make one with: python -c "
        '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    ) from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "apps.accounts",
    "apps.cloud",
    "apps.overview",
    "apps.operations",
    "apps.instances",
    "apps.flavors",
    "apps.keypairs",
    "apps.snapshots",
    "apps.hypervisors",
    "apps.consoles",
    "apps.networks",
    "apps.volumes",
    "apps.servergroups",
]

MIDDLEWARE = [
    "dashboard.middleware.RequestIdMiddleware",
    "dashboard.health.HealthMiddleware",  # /healthz, /readyz, /metrics: before sessions, sign-in, HTTPS redirect
    "dashboard.metrics.MetricsMiddleware",  # every other request's time, by view
    "dashboard.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.accounts.middleware.AccountMiddleware",
    "apps.cloud.middleware.CloudErrorMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.account",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{STATE_DIR / 'stratus.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),  # one connection per thread, not one per request
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that Celery worker processes in the tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(STATE_DIR / "test-stratus.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: Celery broker, cache, console tokens. Unset: the embedded server of the state folder (the Procfile's `redis`
# process runs it; dashboard/devstate.py wrote its password).
REDIS_URL = env("REDIS_URL") or embedded_redis.url_of(STATE_DIR / "redis") or ""
if not REDIS_URL:
    raise ImproperlyConfigured(
        f"REDIS_URL is not set and no embedded Redis is prepared in {STATE_DIR / 'redis'}: set REDIS_URL, or prepare "
        "the state folder with " + _PREPARE
    )

CACHES = {
    "default": {
        "BACKEND": "dashboard.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "stratus",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Sessions in the database: they hold the Keystone token server-side and survive a Redis outage.
SESSION_ENGINE = "dashboard.sessions"
SESSION_COOKIE_NAME = "stratus_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
USE_TLS = env_bool("STRATUS_TLS", PRODUCTION)
SESSION_COOKIE_SECURE = USE_TLS
CSRF_COOKIE_SECURE = USE_TLS
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = USE_TLS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if USE_TLS else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if USE_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = USE_TLS
SECURE_HSTS_PRELOAD = USE_TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],  # width of usage bars; no inline <style>, no inline script
        "img-src": ["'self'", "data:", "blob:"],
        # The console page adds its proxy's own origin (apps/consoles/views.py); no other page opens a WebSocket.
        "connect-src": ["'self'"],
        "frame-src": env_list("STRATUS_CSP_FRAME_SRC", ["'self'"]),
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("vi", _("Tiếng Việt"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Where `manage.py collectstatic` puts the static files (`make run` collects them at start). In the state folder by
# default, so that a run from a checkout writes nothing into it; a proxy serving them names a folder it can read.
STATIC_ROOT = Path(env("STRATUS_STATIC_ROOT", str(STATE_DIR / "static"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STRATUS_MANIFEST_STATIC", PRODUCTION)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_MAX_AGE = 3600

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# The cloud. OS_AUTH_URL (+ region, interface), or STRATUS_CLOUD naming a cloud in clouds.yaml.
STRATUS_CLOUD = env("STRATUS_CLOUD")
OS_AUTH_URL = env("OS_AUTH_URL", "http://127.0.0.1:5000/identity/v3")
OS_REGION_NAME = env("OS_REGION_NAME", "")
OS_INTERFACE = env("OS_INTERFACE", "public")
OS_USER_DOMAIN_NAME = env("OS_USER_DOMAIN_NAME", "Default")
OS_CACERT = env("OS_CACERT")
if STRATUS_CLOUD:
    import openstack.config

    _region = openstack.config.OpenStackConfig().get_one(STRATUS_CLOUD)
    OS_AUTH_URL = _region.config["auth"]["auth_url"]
    OS_REGION_NAME = OS_REGION_NAME or (_region.region_name or "")
    OS_INTERFACE = _region.config.get("interface", OS_INTERFACE)
# Seconds to wait for any cloud call before the page says the service is not answering.
STRATUS_CLOUD_TIMEOUT = env_float("STRATUS_CLOUD_TIMEOUT", 10.0)
# Seconds /readyz waits for the database, Redis and Keystone (each asked at once) before it names them not ready.
STRATUS_READY_TIMEOUT = env_float("STRATUS_READY_TIMEOUT", 2.0)
# /metrics (Prometheus): readable with this bearer token, or from these networks (CIDRs); neither set, it is off.
STRATUS_METRICS_TOKEN = env("STRATUS_METRICS_TOKEN")
STRATUS_METRICS_ALLOWED_NETWORKS = env_list("STRATUS_METRICS_ALLOWED_NETWORKS", [])
# A Celery worker's own /metrics (0: none), for workers on hosts without a web process.
STRATUS_WORKER_METRICS_PORT = env_int("STRATUS_WORKER_METRICS_PORT", 0)
STRATUS_WORKER_METRICS_HOST = env("STRATUS_WORKER_METRICS_HOST", "127.0.0.1")
for _network in STRATUS_METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"STRATUS_METRICS_ALLOWED_NETWORKS: {_network!r} is not a network (CIDR)") from None
# Service credentials (a clouds.yaml cloud name) for admin-only lookups such as console auth tokens.
STRATUS_SERVICE_CLOUD = env("STRATUS_SERVICE_CLOUD")

# Console proxy (websockify): where it listens and the URL the browser uses to reach it.
STRATUS_CONSOLE_PROXY_HOST = env("STRATUS_CONSOLE_PROXY_HOST", "127.0.0.1")
STRATUS_CONSOLE_PROXY_PORT = env_int("STRATUS_CONSOLE_PROXY_PORT", 6080)
STRATUS_CONSOLE_URL = env(
    "STRATUS_CONSOLE_URL", ""
)  # e.g. wss://dash.example.org/console/ ; empty: same host, proxy port
STRATUS_CONSOLE_ALLOWED_ORIGINS = env_list("STRATUS_CONSOLE_ALLOWED_ORIGINS", [])
STRATUS_CONSOLE_TOKEN_TTL = env_int("STRATUS_CONSOLE_TOKEN_TTL", 45)
# Networks (CIDRs) the console proxy may connect to: the compute nodes' VNC addresses. Default: loopback (devcloud)
# and the private ranges; never link-local (169.254.0.0/16: metadata services). Operators set their compute networks.
STRATUS_CONSOLE_ALLOWED_NETWORKS = env_list(
    "STRATUS_CONSOLE_ALLOWED_NETWORKS",
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)

# Sign-in throttling.
STRATUS_LOGIN_MAX_FAILURES = env_int("STRATUS_LOGIN_MAX_FAILURES", 5)
STRATUS_LOGIN_BLOCK_SECONDS = env_int("STRATUS_LOGIN_BLOCK_SECONDS", 300)
STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
# How many reverse proxies stand in front of Stratus: the client address is then read from X-Forwarded-For.
STRATUS_TRUSTED_PROXIES = env_int("STRATUS_TRUSTED_PROXIES", 0)

# Celery (see dashboard/celery.py). Settings follow Read the Docs' production experience.
# The broker: the Redis above unless CELERY_BROKER_URL names another, such as the RabbitMQ an OpenStack deployment
# already runs (amqp://user:password@host:5672/vhost; docs/deployment.md says when to prefer which). Redis stays the
# cache and the console-token store either way. kombu names a unix socket redis+socket:// (redis-py: unix://).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "") or (
    "redis+socket://" + REDIS_URL[len("unix://") :] if REDIS_URL.startswith("unix://") else REDIS_URL
)
BROKER_IS_AMQP = CELERY_BROKER_URL.split("://", 1)[0] in ("amqp", "amqps", "pyamqp")
STRATUS_BROKER_NAME = "RabbitMQ" if BROKER_IS_AMQP else "Redis"  # named in messages and in /readyz
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("STRATUS_CELERY_QUEUE", "stratus")
if BROKER_IS_AMQP:
    # A quorum queue (replicated, durable: RabbitMQ's choice for work that must not be lost) on a topic exchange, so
    # that a retry's countdown waits in RabbitMQ (Celery's native delayed delivery), not unacknowledged in a worker;
    # publisher confirms, so that a task is queued when send() returns.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"confirm_publish": True}
else:
    # An unacknowledged task goes back to the queue after this long (a worker killed mid-operation).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("STRATUS_VISIBILITY_TIMEOUT", 3 * 3600)}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False

LOG_JSON = env_bool("STRATUS_LOG_JSON", PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "dashboard.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "dashboard.logging.JsonFormatter"},
        "text": {
            "class": "dashboard.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "text",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "keystoneauth": {"level": "WARNING"},
        "openstack": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}
