"""Settings shared by every environment. Values that differ come from the environment."""
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_database, env_int, env_list, env_str
from registry.records.missing_codes import DEFAULT_MISSING_DATA_CODES, parse_missing_data_codes

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Everything the registry writes at run time (SQLite file, uploads, import staging) lives here.
VAR_DIR = Path(env_str("REGISTRY_VAR_DIR", "") or BASE_DIR / "var")

# A fixed key is fine on one machine; config/settings/production.py refuses it.
LOCAL_DEVELOPMENT_SECRET_KEY = "local-development-only-not-secret"
SECRET_KEY = env_str("SECRET_KEY", "") or LOCAL_DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "import_export",
    "axes",  # login lockout (below)
    "django_otp",  # second factor (below)
    "django_otp.plugins.otp_totp",
    "django_htmx",  # request.htmx: the workspace's views answer a fragment to an htmx request
    "registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Ends a session after REGISTRY_SESSION_IDLE_MINUTES without a request (registry/sessions.py).
    "registry.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified once they have entered a one-time password this session.
    "django_otp.middleware.OTPMiddleware",
    # Sends a user whose role requires a second factor to set it up and enter it (registry/admin/second_factor.py).
    "registry.admin.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the logged-in user on every audit-trail row written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a locked-out login attempt (django-axes); axes asks to be the last middleware.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# People log in to the workspace (registry/workspace/) and land on their worklist; the admin keeps its own login.
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:worklist"
LOGOUT_REDIRECT_URL = "workspace:login"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.workspace.context.workspace_access",
            ],
        },
    },
]


# Embedded default: a SQLite file under var/. PostgreSQL: postgres://user:password@host:5432/name.
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'registry.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes), for every login form (the admin's, and any form that calls Django's
# authenticate() with the request): 5 failed logins for one username from one address lock that
# username at that address for 30 minutes; another username, or the same one from elsewhere, is not
# locked. The API tokens are not passwords typed into a form: they are 128 random bits each, and
# rate-limited per user once known (registry/api/throttling.py).
# Axes has no window of its own: a failure counts while the previous one for that username and address
# is less than AXES_COOLOFF_TIME old, and the lock lasts AXES_COOLOFF_TIME after the last failure. So 5
# failures within 15 minutes always lock, and so do 5 failures each within 30 minutes of the one
# before (a slower guesser is locked too); then the lock lasts 30 minutes.
# Unlock earlier: delete the "Access attempts" row in the admin, or `python manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username+address before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A successful login forgets the earlier failures, as people expect after a typo or two.
AXES_RESET_ON_SUCCESS = True
# Attempts made while locked are refused without being counted: the lock ends 30 minutes after the
# 5th failure, not 30 minutes after whatever an attacker keeps sending.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False  # no banner on every command's output
# Behind N reverse proxies that append to X-Forwarded-For, the address the outermost one saw is the
# client's (registry/admin/login_lockout.py); 0: the connection's own address.
TRUSTED_PROXY_COUNT = env_int("REGISTRY_TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"REGISTRY_TRUSTED_PROXY_COUNT must be 0 or more; got {TRUSTED_PROXY_COUNT}")
AXES_CLIENT_IP_CALLABLE = "registry.admin.login_lockout.client_address"

# Sessions end after this many minutes without a request; each request starts the count again
# (to within a minute, registry/sessions.py).
SESSION_IDLE_MINUTES = env_int("REGISTRY_SESSION_IDLE_MINUTES", 30)
if SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured(
        f"REGISTRY_SESSION_IDLE_MINUTES must be 1 or more (minutes of inactivity before a session ends); "
        f"got {SESSION_IDLE_MINUTES}"
    )
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# Not Django's save-on-every-request: registry/sessions.py pushes the end back about once a minute.
SESSION_ENGINE = "registry.sessions"
SESSION_SAVE_EVERY_REQUEST = False

# Second factor (django-otp, TOTP): users of these registry roles must enter a one-time password from
# an authenticator app after their password (superusers count as administrators). Empty: nobody is
# asked. Production requires it of administrators by default (config/settings/production.py).
REQUIRE_SECOND_FACTOR_ROLES = env_list("REGISTRY_REQUIRE_SECOND_FACTOR_ROLES", [])
# The issuer shown in the authenticator app beside the username.
OTP_TOTP_ISSUER = "ALK+ NSCLC registry"
# Nobody reads another user's TOTP key in the admin (not even a superuser): a user sets up their own app
# on /admin/second-factor/, and a lost app is reset, never copied (registry/admin/third_party.py).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Files uploaded for import wait here between the preview and the confirmation.
IMPORT_STAGING_DIR = VAR_DIR / "import-staging"

# Exports requested in the admin (registry/services/export_jobs.py) are written here, one zip a job.
EXPORTS_DIR = VAR_DIR / "exports"
# Days a finished export's zip is kept for download; a daily task then deletes it (identified data must
# not pile up on the server) and marks its job expired, and removes files no job owns.
EXPORT_RETENTION_DAYS = env_int("REGISTRY_EXPORT_RETENTION_DAYS", 7)
if EXPORT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        f"REGISTRY_EXPORT_RETENTION_DAYS must be 1 or more (days an export stays downloadable); got {EXPORT_RETENTION_DAYS}"
    )

# Export jobs one user may have queued or running at once, through the admin and the REST API together; one
# more is refused (the API answers 429) until one has finished. A job takes a worker for minutes: without a
# cap, one client's loop of requests would queue everyone else's exports behind its own.
EXPORT_MAX_OPEN_JOBS = env_int("REGISTRY_EXPORT_MAX_OPEN_JOBS", 5)
if EXPORT_MAX_OPEN_JOBS < 1:
    raise ImproperlyConfigured(
        f"REGISTRY_EXPORT_MAX_OPEN_JOBS must be 1 or more (export jobs one user may have open); got {EXPORT_MAX_OPEN_JOBS}"
    )

# A REST API dataset download of more patients than this (those the user sees, of the site and cut asked
# for) is not written during the request: GET answers 409 and names the job URL to POST to instead
# (registry/api/dataset_jobs.py, docs/rest-api-datasets.md). 0: every API download is a job.
API_SYNC_DATASET_PATIENTS = env_int("REGISTRY_API_SYNC_DATASET_PATIENTS", 2000)
if API_SYNC_DATASET_PATIENTS < 0:
    raise ImproperlyConfigured(
        f"REGISTRY_API_SYNC_DATASET_PATIENTS must be 0 or more (patients a download writes at once); "
        f"got {API_SYNC_DATASET_PATIENTS}"
    )

# The key of de-identified exports' pseudonyms and date shifts (registry/exports/deidentify.py).
# Unset: derived from SECRET_KEY, except from the local development key (then de-identified exports
# are refused until a key is set).
DEIDENTIFICATION_KEY = env_str("REGISTRY_DEIDENTIFICATION_KEY", "") or None
if DEIDENTIFICATION_KEY is not None and len(DEIDENTIFICATION_KEY) < 32:
    raise ImproperlyConfigured(
        "REGISTRY_DEIDENTIFICATION_KEY must be a random string of at least 32 characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )

# Missing-data codes entered instead of a value (registry/records/missing_codes.py): REDCap's defaults,
# or REGISTRY_MISSING_DATA_CODES as CODE=label pairs separated by commas (e.g. "UNK=Unknown,ND=Not done").
# A malformed list stops start-up with the variable's name.
MISSING_DATA_CODES = (
    parse_missing_data_codes(env_str("REGISTRY_MISSING_DATA_CODES", ""), name="REGISTRY_MISSING_DATA_CODES")
    if env_str("REGISTRY_MISSING_DATA_CODES", "").strip() else dict(DEFAULT_MISSING_DATA_CODES)
)

# Uploads above this size are streamed to a temporary file, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# The REST API (registry/api/). Its views set their own authentication (API tokens), permissions,
# throttles and error handler; these are the shared settings. Rates per token: "N/second|minute|hour|day".
def _rate(name: str, default: str) -> str:
    value = env_str(name, "") or default
    count, _, period = value.partition("/")
    if not count.isdigit() or period not in ("second", "minute", "hour", "day"):
        raise ImproperlyConfigured(f"{name} must be a rate like 600/minute; got {value!r}")
    return value


REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "api": _rate("REGISTRY_API_RATE", "600/minute"),  # every request with one token
        "api_bulk": _rate("REGISTRY_API_BULK_RATE", "120/hour"),  # bulk upserts, on top of it
    },
}
# Bulk upserts stream their body to a temporary file, so they may be larger than the in-memory limit
# that every other API request has (DATA_UPLOAD_MAX_MEMORY_SIZE); above either, the answer is 413.
REGISTRY_API_BULK_MAX_BYTES = env_int("REGISTRY_API_BULK_MAX_BYTES", 200 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "ALK+ NSCLC registry API",
    "DESCRIPTION": (
        "REST API for participating sites and investigators: records nested under each patient, bulk upsert, "
        "incremental sync, derived results, datasets and the study report. Field names and codes are the data "
        "dictionary's (fixtures/data_dictionary.csv). Authenticate with `Authorization: Token <token>`. Every 4xx "
        "answer is `{\"detail\": ..., \"errors\": [...]}`; nothing is written when one is answered."
    ),
    "VERSION": "1",
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Each coded field's codes inline, where the field is (not as shared Enum components named by guess);
    # then what the server enforces, stated in the schema (registry/api/schema.py).
    "POSTPROCESSING_HOOKS": ["registry.api.schema.stated_limits"],
    # The interactive docs' JavaScript and CSS come from drf-spectacular-sidecar, served by the
    # application itself: no CDN, so the docs work on a closed hospital network.
    "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR",
    # Nothing from another host: no online validator badge; ReDoc with the system's fonts (its default
    # theme names web fonts), and without its search, which runs in a worker made from a blob: URL
    # that the Content-Security-Policy refuses.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {
        "disableSearch": True,
        "theme": {"typography": {
            "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
            "code": {"fontFamily": "ui-monospace, 'SF Mono', Menlo, Consolas, monospace"},
        }},
    },
}
INSTALLED_APPS.append("drf_spectacular_sidecar")

# Celery: with no broker configured every task runs in-process, synchronously.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "") or None
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
# Queued work survives crashes. A task is acknowledged only once it has run, so a worker killed
# mid-task leaves it on the broker: when a pool process dies, the tasks marked reject_on_worker_lost
# (the derivations, registry/tasks.py) are requeued at once; when the worker's main process dies, Redis
# redelivers the unacknowledged message after the visibility timeout. Each worker process reserves
# one task at a time, so a crash strands no more than the task it was running.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds before Redis hands an unacknowledged task to another worker. It must exceed the longest
# task, or a task still running is delivered a second time (harmless, the tasks are idempotent, but
# wasted work), and the longest retry delay (300 s, registry/tasks.py), or a retry waiting on a worker
# is delivered again. The longest task is a full derivation: 205 patients/s measured on 2 cores
# (README, Benchmarks), so an hour covers some 700,000 patients, or 70 times the benchmark's 10,000.
# Stranded derivations do not wait for it: the sweep below derives them within minutes.
TASK_VISIBILITY_TIMEOUT_SECONDS = env_int("REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS", 3600)
if TASK_VISIBILITY_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(
        f"REGISTRY_TASK_VISIBILITY_TIMEOUT_SECONDS must be 1 or more; got {TASK_VISIBILITY_TIMEOUT_SECONDS}")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TASK_VISIBILITY_TIMEOUT_SECONDS}
CELERY_TIMEZONE = TIME_ZONE
# Every few minutes: derive the patients whose results have been stale for longer than the grace,
# or who were written that long ago and have none: their task, queued after the commit, was lost
# (registry/services/derivation.py, derivations_sweep). The grace leaves fresh changes to their own task.
DERIVATION_SWEEP_SECONDS = env_int("REGISTRY_DERIVATION_SWEEP_SECONDS", 300)
DERIVATION_SWEEP_GRACE_SECONDS = env_int("REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS", 120)
if DERIVATION_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(f"REGISTRY_DERIVATION_SWEEP_SECONDS must be 1 or more; got {DERIVATION_SWEEP_SECONDS}")
if DERIVATION_SWEEP_GRACE_SECONDS < 0:
    raise ImproperlyConfigured(
        f"REGISTRY_DERIVATION_SWEEP_GRACE_SECONDS must be 0 or more; got {DERIVATION_SWEEP_GRACE_SECONDS}")
# A full derivation (settings changed, rules version changed, `derive` without --record) is split into
# chunks of this many patients, each one Celery task and one transaction (registry/services/
# derivation_runs.py). 1000: at about 200 patients/s per process a chunk takes some 5 s, so a killed or
# retried chunk costs seconds of work, progress moves every few seconds, a chunk's patients stay locked
# against edits that long at most, and 100,000 patients make 100 chunks that even out over the workers;
# the per-task cost (broker round trip, 4 bookkeeping queries) stays under 1 % of a chunk.
DERIVE_CHUNK_PATIENTS = env_int("REGISTRY_DERIVE_CHUNK_PATIENTS", 1000)
if DERIVE_CHUNK_PATIENTS < 1:
    raise ImproperlyConfigured(f"REGISTRY_DERIVE_CHUNK_PATIENTS must be 1 or more; got {DERIVE_CHUNK_PATIENTS}")
# Nightly: derive whatever is missing or stale (registry/tasks.py), catching up with edits whose
# task was lost (broker down) and with settings changed outside the admin.
CELERY_BEAT_SCHEDULE = {
    "derive-stale-patients-nightly": {
        "task": "registry.derive_all",
        "schedule": crontab(hour=2, minute=0),
    },
    "derive-stale-patients-sweep": {
        "task": "registry.derive_sweep",
        "schedule": float(DERIVATION_SWEEP_SECONDS),
        # A sweep not started by the next one's time (workers down or busy) is dropped, not piled up.
        "options": {"expires": float(DERIVATION_SWEEP_SECONDS)},
    },
    "expire-old-export-files-nightly": {
        "task": "registry.expire_export_jobs",
        "schedule": crontab(hour=3, minute=0),
    },
    # After the nightly derivation, so that the derivation's flags are current.
    "run-quality-rules-nightly": {
        "task": "registry.run_quality_rules",
        "schedule": crontab(hour=4, minute=0),
    },
}

# The cache holds which patients are queued for derivation (registry/services/derivation.py); with a
# worker in another process it must be shared, so it defaults to the Redis broker when there is one.
CACHE_URL = env_str("CACHE_URL", "") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL; got {CACHE_URL!r}")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# django-simple-history: audit rows keep the user even if the account is later removed.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# django-import-export: a file with any bad row imports nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    # Django's own default handler on "django" would print every message a second time via the root.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

# Security headers. A Content-Security-Policy on every page (django-csp): scripts, styles, fonts and
# images only from the registry itself (images also as data: URIs, the study report's curves), no
# plugins, no framing; no inline script or style anywhere. NONCE is in the header only on a page
# that uses `request.csp_nonce`: the ReDoc page, whose library inserts its styles with that nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}
INSTALLED_APPS.append("csp")
# Our copies of third-party templates (django-import-export's export page, django-simple-history's
# history list) without their inline style and event-handler attributes; found before the apps' own.
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "registry" / "template_overrides"]
# Every REST and REDCap API answer carries `Cache-Control: no-store` (patient data stays out of
# browser and proxy caches); ETag and If-None-Match still work for clients that keep their own copy.
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "registry.api.middleware.NoStoreApiAnswers"]
