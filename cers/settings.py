"""Settings, read from the environment.

With nothing set, the embedded default runs: SQLite in the project folder, Celery tasks
executed eagerly in the web process, e-mail printed on the console. Setting ``DATABASE_URL``
(PostgreSQL through psycopg 3) and ``REDIS_URL`` runs the same code on real services with
real Celery workers. ``cers.settings_production`` tightens everything for deployment.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("CERS_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "guardian",
    "axes",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "organizations",
    "regulators",
    "facilities",
    "libraries",
    "submittals",
    "cme",
    "edt",
    "portal",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.ScopeCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.NoStoreWhenSignedInMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes goes last: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# The content security policy: scripts, styles, images and fonts from this site only (no inline
# script without the response's nonce, no inline event handler or style attribute: static/js
# holds the behaviour), forms post here only, and no other site may frame a page.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "cers.urls"
WSGI_APPLICATION = "cers.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "core.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # JIT compilation off for the application's sessions: the scoped queries' planned cost
    # passes jit_above_cost, and compiling took most of the time of queries that run in tens
    # of milliseconds without it (README, "Database settings"). An explicit jit setting in the
    # URL's options wins.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "jit" not in _options.get("options", ""):
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
else:
    raise ImproperlyConfigured("DATABASE_URL must name PostgreSQL or SQLite.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# auth.W004 asks for unique=True on the login field; accounts.User enforces uniqueness
# case-insensitively with a UniqueConstraint on Lower(email), which the check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PortalBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Lifetimes of the e-mailed account links, each kind its own (accounts/tokens.py).
CERS_ACTIVATION_TIMEOUT = 60 * 60 * env.int("CERS_ACTIVATION_LINK_HOURS", default=72)
PASSWORD_RESET_TIMEOUT = 60 * 60 * env.int("CERS_PASSWORD_RESET_LINK_HOURS", default=24)
CERS_EMAIL_CHANGE_TIMEOUT = 60 * 60 * env.int("CERS_EMAIL_CHANGE_LINK_HOURS", default=24)

# django-guardian: no anonymous user row; portal users never hold global permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# The client's address (core.net.client_address), which every throttle, lock-out and log
# counts by: the number of reverse proxies every request passes through, each appending to
# X-Forwarded-For. 0 (no proxy): X-Forwarded-For is ignored and REMOTE_ADDR is the client.
CERS_TRUSTED_PROXIES = env.int("CERS_TRUSTED_PROXIES", default=0)
if CERS_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("CERS_TRUSTED_PROXIES is a number of proxies, 0 or more.")

# django-axes: sign-in failures within the cool-off lock out, whichever comes first, the pair
# (e-mail address, client address) at AXES_FAILURE_LIMIT, the client address across accounts
# (password spraying) at CERS_SIGNIN_FAILURES_PER_ADDRESS, and the account from any address
# at CERS_SIGNIN_FAILURES_PER_ACCOUNT (accounts.lockout). The account's limit must exceed the
# pair's, so no one address can lock an account out for everyone.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
CERS_SIGNIN_FAILURES_PER_ADDRESS = env.int("CERS_SIGNIN_FAILURES_PER_ADDRESS", default=20)
CERS_SIGNIN_FAILURES_PER_ACCOUNT = env.int("CERS_SIGNIN_FAILURES_PER_ACCOUNT", default=50)
if not AXES_FAILURE_LIMIT < CERS_SIGNIN_FAILURES_PER_ACCOUNT:
    raise ImproperlyConfigured(
        "CERS_SIGNIN_FAILURES_PER_ACCOUNT must be above AXES_FAILURE_LIMIT, or one client could "
        "lock an account out for everyone."
    )
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_HANDLER = "accounts.lockout.SignInLockout"
AXES_CLIENT_IP_CALLABLE = "core.net.client_address"
AXES_RESET_ON_SUCCESS = True
# A locked-out client's further failures are not counted: they would carry its count on to
# the account's limit, and one client could lock an account out for everyone after all.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"

# Rate limits of the pages anyone can submit over and over (core.ratelimit): "N/second|minute|
# hour|day"; empty turns one off. Sign-up and activation again, password reset, join by
# organization code and asking to join the EDT implementers' list are counted per client address
# (joins per signed-in user too), invitations to an organization and password changes (each
# checks the current password and e-mails the account) per user; "email" counts the e-mails
# those pages may send to one address.
CERS_RATE_LIMITS = {
    "signup": env.str("CERS_RATE_SIGNUP", default="10/hour"),
    "password_reset": env.str("CERS_RATE_PASSWORD_RESET", default="10/hour"),
    "email": env.str("CERS_RATE_EMAIL", default="5/hour"),
    "join": env.str("CERS_RATE_JOIN", default="20/hour"),
    "implementers": env.str("CERS_RATE_IMPLEMENTERS", default="10/hour"),
    "invite": env.str("CERS_RATE_INVITE", default="30/hour"),
    "password_change": env.str("CERS_RATE_PASSWORD_CHANGE", default="10/hour"),
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True
# One date and time format across the site, with the time zone (cers/formats/en/formats.py).
FORMAT_MODULE_PATH = ["cers.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("CERS_MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _mailer(url_config: dict) -> dict:
    """Turn django-environ's EMAIL_URL reading into a MAILERS entry (Django 6.1)."""
    backend = url_config["EMAIL_BACKEND"]
    options = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": url_config.get("EMAIL_HOST"),
            "port": url_config.get("EMAIL_PORT"),
            "username": url_config.get("EMAIL_HOST_USER") or None,
            "password": url_config.get("EMAIL_HOST_PASSWORD") or None,
            "use_tls": bool(url_config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(url_config.get("EMAIL_USE_SSL")),
            "timeout": 30,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": url_config.get("EMAIL_FILE_PATH")}
    return {"BACKEND": backend, "OPTIONS": options}


# EMAIL_URL: consolemail:// (default), smtp://user:pass@host:587/?tls=True, or
# filemail:////absolute/path (four slashes: django-environ drops one).
MAILERS = {"default": _mailer(env.email_url("EMAIL_URL", default="consolemail://"))}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CERS <no-reply@cers.localhost>")

# Celery. Without REDIS_URL, tasks run eagerly in the calling process (the embedded default).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Workers that stay up (README, "Deployment"): a task is acknowledged after it ran and put back
# when its pool process dies (prefork replaces the process); a pool process is replaced after
# some tasks anyway, so a leak cannot grow for ever; a worker that loses the broker cancels its
# running tasks (their rows are claimed in the database, so the redelivery finds them).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=200)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a dead worker had taken returns to the queue after the visibility timeout. It must
# outlast the longest task (the hard time limit), or a slow upload would be delivered again
# while it runs; the sweeps, not this timeout, recover the work of a dead worker within seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60}
# A publish while Redis is down gives up after about a second; the sweeps enqueue it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0.2,
    "interval_step": 0.4,
    "interval_max": 1,
}
# The sweeps (the outbox, EDT uploads) run this often; with CERS_MESSAGE_GRACE they bound how
# long work whose message was lost waits (about the two added, plus the work itself).
SWEEP_SECONDS = env.float("CERS_SWEEP_SECONDS", default=10.0)
# A queued row (an e-mail, an upload) whose message was published this many seconds ago while
# the broker's queue of its task is empty has lost it (Redis restarted without its data, the
# worker that had taken it died): the next sweep publishes it again (core.tasks).
CERS_MESSAGE_GRACE = env.float("CERS_MESSAGE_GRACE", default=10.0)
# How often the due date reminders are looked for; each is sent once whatever the interval.
DUE_REMINDER_SECONDS = env.float("CERS_DUE_REMINDER_SECONDS", default=3600.0)
# How often the regulator dashboards are counted again; each dashboard says how old it is.
SUMMARY_SECONDS = env.float("CERS_SUMMARY_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-outbound-email": {
        "task": "core.tasks.sweep_outbound_email",
        "schedule": SWEEP_SECONDS,
    },
    "sweep-edt-uploads": {
        "task": "edt.tasks.sweep_edt_uploads",
        "schedule": SWEEP_SECONDS,
    },
    "due-date-reminders": {
        "task": "facilities.tasks.send_due_reminders",
        "schedule": DUE_REMINDER_SECONDS,
    },
    # The CME reporting deadline's reminder to each agency's administrators (once a quarter).
    "cme-deadline-reminders": {
        "task": "cme.tasks.send_deadline_reminders",
        "schedule": DUE_REMINDER_SECONDS,
    },
    "refresh-dashboard-summaries": {
        "task": "portal.tasks.refresh_summaries",
        "schedule": SUMMARY_SECONDS,
    },
}
# How many times a queued e-mail is tried before it is recorded as failed.
CERS_EMAIL_MAX_ATTEMPTS = env.int("CERS_EMAIL_MAX_ATTEMPTS", default=5)

# A cache that stops answering must not hold up a request or an upload: short socket timeouts.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Django REST framework serves the EDT services (edt/api/): their views set their own
# authentication, permission, throttle, renderer and parser classes. Rates: "N/second|minute|
# hour|day" per client address; empty turns a throttle off (edt/api/throttles.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The EDT throttles count core.net.client_address; any other throttle reads the same proxies.
    "NUM_PROXIES": CERS_TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "edt_anonymous": env.str("EDT_THROTTLE_ANONYMOUS", default="120/minute"),
        "edt_failed": env.str("EDT_THROTTLE_FAILED", default="30/minute"),
    },
}

# The EDT services' OpenAPI document (edt/api/openapi.py, drf-spectacular).
SPECTACULAR_SETTINGS = {
    "TITLE": "CERS EDT services",
    "VERSION": "1",
    "DESCRIPTION": "CalEPA-compatible EDT endpoints. Every answer is XML by default; send "
    "Accept: application/json for JSON.",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SORT_OPERATION_PARAMETERS": False,
    "PREPROCESSING_HOOKS": ["edt.api.schema.production_paths_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "edt.api.schema.tiers_and_servers",
    ],
    "SCHEMA_PATH_PREFIX": "/EDT",
    "SCHEMA_PATH_PREFIX_TRIM": True,  # CalEPA's order, as the endpoint pages list them
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The State administrator manages organizations with more facilities than this.
CERS_LARGE_ORGANIZATION_THRESHOLD = env.int("CERS_LARGE_ORGANIZATION_THRESHOLD", default=50)

# The user agreements of the two portals: a person accepts the current version of a portal's
# agreement before its first page, and a new version makes them accept again. Each goes with its
# text (templates/accounts/agreements/): change the version when the text changes.
CERS_BUSINESS_AGREEMENT_VERSION = env.str("CERS_BUSINESS_AGREEMENT_VERSION", default="2026-1")
CERS_REGULATOR_AGREEMENT_VERSION = env.str("CERS_REGULATOR_AGREEMENT_VERSION", default="2026-1")

# EDT access. The key of the keyed hash that stores EDT account credentials (empty: derived from
# SECRET_KEY; set it to rotate SECRET_KEY without re-issuing every EDT secret). The Terms of Use
# version agencies accept when they request access: a new version makes them accept again.
EDT_CREDENTIAL_KEY = env.str("EDT_CREDENTIAL_KEY", default="")
EDT_TERMS_VERSION = "2026-1"
# The most records one EDT query may return; above it the query answers 413 and says how to
# narrow it. Queries stream, so the ceiling protects the database, not the web process.
EDT_QUERY_MAX_RESULTS = env.int("EDT_QUERY_MAX_RESULTS", default=100_000)
# Uploads up to this size are processed within the request (as CERS does); larger ones answer
# Queued and a worker processes them.
EDT_INLINE_MAX_BYTES = env.int("EDT_INLINE_MAX_BYTES", default=256 * 1024)
# An upload whose processing was started this many times and never finished (its worker died
# each time) ends ErrorProcessing. Without row locks (SQLite) a claim older than the lease
# (seconds) is taken to be dead; on PostgreSQL the claim's row lock tells at once.
EDT_MAX_ATTEMPTS = env.int("EDT_MAX_ATTEMPTS", default=3)
EDT_CLAIM_LEASE = env.int("EDT_CLAIM_LEASE", default=CELERY_TASK_TIME_LIMIT + 5 * 60)
# A queued upload whose message was published this many seconds ago is published again even
# while the broker's queue holds messages (a long queue), or when the broker cannot say what it
# holds; with an empty queue CERS_MESSAGE_GRACE decides. Each upload of a long queue gets at
# most one more message per this interval (harmless: the claim runs each once).
EDT_QUEUED_STRANDED = env.int("EDT_QUEUED_STRANDED", default=120)
# Test-only fault points (tools/faults.py): "point=seconds,..." makes processing log and sleep
# at a named point of edt.uploads.process so a fault harness can kill the worker there. Empty
# (the default) makes them inert; never set it in production.
CERS_FAULT_HOOK = env.str("CERS_FAULT_HOOK", default="")
# EDT intake: the largest XML body and ZIP package accepted, and CalEPA's published XSD files
# (one folder per schema set, 1.05/ and cers3/; the repository carries them in edt/schemas/, and
# the edt app's system check stops start-up when a set or a file the service needs is missing).
EDT_MAX_XML_BYTES = env.int("EDT_MAX_XML_BYTES", default=20 * 1024 * 1024)
EDT_MAX_ZIP_BYTES = env.int("EDT_MAX_ZIP_BYTES", default=300 * 1024 * 1024)
EDT_SCHEMA_DIR = Path(env.str("CERS_EDT_SCHEMA_DIR", default=str(BASE_DIR / "edt" / "schemas")))
CERS_PAGE_SIZE = env.int("CERS_PAGE_SIZE", default=25)
# Lists count at most this many rows (one more tells "more than ..."): a state-sized
# jurisdiction is not counted to its end on every page view.
CERS_LIST_COUNT_CAP = env.int("CERS_LIST_COUNT_CAP", default=10_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
