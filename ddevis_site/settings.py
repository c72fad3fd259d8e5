"""Settings for d-DeVIS, read from environment variables.

Every variable is listed with its default in README.md and .env.example.
"""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """Return the environment variable `name`, or `default` when unset or empty."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable (1/0, true/false, yes/no, on/off)."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value, not {value!r}.")


def env_number(name: str, default: float) -> float:
    """Read a positive number from the environment."""
    raw = env(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {raw!r}.")
    return value


# The ignored folder that holds everything a local run creates: the SQLite
# database, uploaded media, collected static files and the generated secret key.
DATA_DIR = Path(env("DDEVIS_DATA_DIR", str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """Use SECRET_KEY, or a random key kept in DATA_DIR so sessions survive restarts."""
    if key := env("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Processes that start together on a fresh DATA_DIR (serve's, the test workers) must all end up
        # with one key, and none may read a half-written file: the first to link a finished file wins.
        draft = DATA_DIR / f"secret_key.{os.getpid()}"
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, key_file)
        draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "rest_framework",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ddevis_site",
    "core",
    "accounts",
    "jobs",
    "modelzoo",
    "experiments",
    "insights",
    "workshop",
    "live",
]

MIDDLEWARE = [
    # First: a filter image or sound whose URL carries a valid grant needs nothing of what follows.
    "experiments.filter_media.GrantedMediaMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.TokenAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ddevis_site.body_limits.RequestBodyLimitMiddleware",
    "jobs.leases.AbandonedJobsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ddevis_site.urls"
WSGI_APPLICATION = "ddevis_site.wsgi.application"
ASGI_APPLICATION = "ddevis_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "experiments.context_processors.nav_badges",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ddevis.sqlite3'}"),
        conn_max_age=int(env_number("DATABASE_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: wait for locks instead of
    # failing, and let readers work while the worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too: in memory, the browser tests' live server would share one
    # connection between all its request threads. Each pytest-xdist worker gets a file of its own:
    # pytest-django adds the worker's name to this one (test.sqlite3_gw0, test.sqlite3_gw1).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first (Django's recommendation): as strong as PBKDF2 at a fraction of the CPU time, so a
# class signing in at once does not starve every other request; on one lane (accounts/hashers.py)
# so that a sign-in holds one core, not all of them. PBKDF2 hashes still verify, and are upgraded
# at the next sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2OneLaneHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a sign-in while the username or the address is locked out, on
# the login form, the admin's and the API's token endpoint alike (all go through authenticate()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files: WhiteNoise serves them from STATIC_ROOT after collectstatic.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG

# Media: a local folder by default; an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set.
# Media is never served directly: every audio file and image goes through a view
# that checks who may see it.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "media/"
# How long a signed link to a filter's image or sound (handed out by pages and the API) works.
MEDIA_GRANT_SECONDS = int(env_number("MEDIA_GRANT_SECONDS", 2 * 3600))
# The lab page a new upload leads to waits this long for its analysis (about 0.1 s of work)
# before it is drawn with "analysing…" and polls instead.
LAB_WAITS_FOR_A_NEW_ANALYSIS_S = env_number("LAB_WAITS_FOR_A_NEW_ANALYSIS_S", 0.5)
_media_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if env("AWS_STORAGE_BUCKET_NAME"):
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "access_key": env("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Caps on what users may upload.
MAX_UPLOAD_MB = env_number("MAX_UPLOAD_MB", 10)
MAX_UPLOAD_BYTES = int(MAX_UPLOAD_MB * 1024 * 1024)
MAX_AUDIO_SECONDS = env_number("MAX_AUDIO_SECONDS", 30)
MAX_MODEL_UPLOAD_MB = env_number("MAX_MODEL_UPLOAD_MB", 50)
# Request bodies (ddevis_site.body_limits): refused from Content-Length above their path's limit
# before they are read (413), and received in bounded time (408): at most REQUEST_BODY_IDLE_TIMEOUT_S
# without a byte, and in all that plus the size at REQUEST_BODY_MIN_BYTES_PER_S.
REQUEST_BODY_DEFAULT_LIMIT = 1024 * 1024
REQUEST_BODY_ENVELOPE_BYTES = 256 * 1024  # an upload's multipart boundaries and other fields
REQUEST_BODY_LIMITS = {
    r"^/recordings/new/$": (MAX_UPLOAD_BYTES, "The file"),
    r"^/api/recordings/$": (MAX_UPLOAD_BYTES, "The file"),
    r"^/admin/modelzoo/modelversion/add/$": (int(MAX_MODEL_UPLOAD_MB * 1024 * 1024), "The model file"),
    # A live window is at most 1.5 s: even as float32 stereo at 192 kHz it stays under 2.5 MB.
    r"^/api/live/$": (int(2.5 * 1024 * 1024), "The window"),
    r"^/live/freeze/$": (MAX_UPLOAD_BYTES, "The take"),
}
REQUEST_BODY_IDLE_TIMEOUT_S = env_number("REQUEST_BODY_IDLE_TIMEOUT_S", 10)
REQUEST_BODY_MIN_BYTES_PER_S = env_number("REQUEST_BODY_MIN_BYTES_PER_S", 32 * 1024)
# Django's own cap on bodies read into memory sits above every limit, so the clearer messages win.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(size for size, _ in REQUEST_BODY_LIMITS.values()) + 2 * REQUEST_BODY_ENVELOPE_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background work through django.tasks. The database backend needs no server and
# lets many workers on many machines share one queue on PostgreSQL.
TASKS = {
    "default": {
        "BACKEND": env("TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# An idle worker is woken the moment a job is queued (jobs/wakeup.py); it also looks for new
# work every WORKER_POLL_INTERVAL seconds, in case a wake-up was lost.
WORKER_POLL_INTERVAL = env_number("WORKER_POLL_INTERVAL", 1.0)
# A running job's worker renews its lease every JOB_HEARTBEAT_SECONDS; a job whose lease is
# older than JOB_LEASE_SECONDS lost its worker and is failed, retryable (jobs/leases.py). The lease
# must outlast the longest stretch a handler holds the GIL (loading TensorFlow and a model: ~20 s
# on a busy 2-core machine), or a live worker's job would be given up.
JOB_HEARTBEAT_SECONDS = env_number("JOB_HEARTBEAT_SECONDS", 2.0)
JOB_LEASE_SECONDS = env_number("JOB_LEASE_SECONDS", 60.0)
# Queue what each filter likes (and the explanation methods' faithfulness) when a model version is validated.
FILTER_INSIGHT_ON_VALIDATION = env_bool("FILTER_INSIGHT_ON_VALIDATION", True)
# The model workshop: how many trainings may wait or run at once on the whole site (each user: one, or
# what an instructor of their course allows),
# and, when set, how many of the shipped training clips a training uses (a demo on a slow machine, tests).
WORKSHOP_MAX_RUNNING = int(env_number("WORKSHOP_MAX_RUNNING", 2))
WORKSHOP_MAX_CLIPS = int(env_number("WORKSHOP_MAX_CLIPS", 0)) or None

# The cache holds the request counters of every throttle, so it must be shared by every web
# process: a table in the database by default (created by accounts' migrations), or Redis when
# REDIS_URL is set (the redis package is in the web requirements).
if env("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}}
    # Every request reads its session: from Redis, written through to the database (so a Redis that
    # restarts signs nobody out), one query less per request on the database every process shares.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "ddevis_cache"}}

# Sign-in throttling (django-axes; its attempts are rows in the database, so every process sees them):
# 10 failures for one username, or from one address, lock that username or address out for 15 minutes.
AXES_FAILURE_LIMIT = int(env_number("SIGNIN_FAILURE_LIMIT", 10))
AXES_COOLOFF_TIME = timedelta(minutes=env_number("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The sign-in forms' field, and the token endpoint's JSON key, are both "username".
AXES_USERNAME_FORM_FIELD = "username"
# Failures and lockouts are still logged (warnings); not every start-up and successful sign-in.
AXES_VERBOSE = False
# Behind a proxy, set AXES_IPWARE_PROXY_COUNT (and the proxy's X-Forwarded-For) so the client's address counts.
if env("AXES_IPWARE_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(env_number("AXES_IPWARE_PROXY_COUNT", 1))

# Join codes: wrong guesses per user; sign-ups per address (core.throttles.AttemptLimit).
JOIN_CODE_FAILURE_LIMIT = int(env_number("JOIN_CODE_FAILURE_LIMIT", 10))
JOIN_CODE_WINDOW_MINUTES = env_number("JOIN_CODE_WINDOW_MINUTES", 15)
SIGNUP_LIMIT_PER_ADDRESS = int(env_number("SIGNUP_LIMIT_PER_ADDRESS", 10))
SIGNUP_WINDOW_MINUTES = env_number("SIGNUP_WINDOW_MINUTES", 60)

# API tokens (accounts.models.ApiToken): only a hash is stored; each expires after this many days.
API_TOKEN_TTL_DAYS = env_number("API_TOKEN_TTL_DAYS", 30)
# A user keeps at most this many live tokens; a new one beyond it replaces the oldest.
API_TOKENS_PER_USER = 50

REST_FRAMEWORK = {
    # The token first: its WWW-Authenticate header makes a missing, wrong or expired token a 401 (not a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every API request counts against its caller's rate; starting an expensive job also against
    # the job's own scope (core.throttles, on the API and on the pages that start the same jobs).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_RATE_ANON", "60/min"),
        "user": env("API_RATE_USER", "600/min"),
        "attacks": env("API_RATE_ATTACKS", "30/hour"),
        "sweeps": env("API_RATE_SWEEPS", "30/hour"),
        "explanations": env("API_RATE_EXPLANATIONS", "60/hour"),
        "ablations": env("API_RATE_ABLATIONS", "120/hour"),
        "trainings": env("API_RATE_TRAININGS", "20/hour"),
        # Live windows count against this scope only (the page sends about five a second).
        "live": env("LIVE_THROTTLE_RATE", "10/s"),
    },
    # JSON with a nesting limit (core.json_limits): a deeply nested body is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ddevis_site.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "d-DeVIS API",
    "DESCRIPTION": "Look inside a spoken-digit CNN: recordings, edits, analyses, experiments and courses.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.Job.Status",
        "ModelVersionStatusEnum": "modelzoo.models.ModelVersion.Status",
        "ExperimentStatusEnum": "experiments.models.Experiment.Status",
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (Django's ContentSecurityPolicyMiddleware); docs/security.md says why each source.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    # app.js and the modules it imports, htmx, the recorder's AudioWorklet: all files of this site.
    # The nonce is for the <script> tags the templates write (and nothing runs inline).
    "script-src": [CSP.SELF, CSP.NONCE],
    # Stylesheets of this site; <style> elements only with the page's nonce (wavesurfer's shadow
    # root, the API docs).
    "style-src": [CSP.SELF, CSP.NONCE],
    # style="width: 42%" on progress and accuracy bars: an attribute cannot load or run anything.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    # Images are files of this site, and data: URIs (the API docs' icons, small inline SVGs).
    "img-src": [CSP.SELF, "data:"],
    # A take the recorder just made plays from a blob: URL, an edit's preview from a data: URI.
    "media-src": [CSP.SELF, "blob:", "data:"],
    # wavesurfer fetches what it draws: the site's audio, the recorder's blob: take, a preview's data: URI.
    "connect-src": [CSP.SELF, "blob:", "data:"],
    "worker-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# Live mode (live/): the warm engine process (manage.py run_live_engine, started by serve) listens on
# a Unix socket path or on host:port; a window it does not answer within LIVE_ENGINE_TIMEOUT_S is a 503.
LIVE_ENGINE_ADDRESS = env("LIVE_ENGINE_ADDRESS", str(DATA_DIR / "live-engine.sock"))
LIVE_ENGINE_TIMEOUT_S = env_number("LIVE_ENGINE_TIMEOUT_S", 5.0)
# How often the engine loads versions validated since it started (their first window is then quick).
LIVE_ENGINE_RESCAN_S = env_number("LIVE_ENGINE_RESCAN_S", 10.0)
# Threads TensorFlow uses for one window's forward pass in the engine (its passes take milliseconds).
LIVE_ENGINE_TF_THREADS = int(env_number("LIVE_ENGINE_TF_THREADS", 1))

# Called once by each worker (run_worker) before it takes work.
WORKER_WARMUP: list[str] = ["modelzoo.inference.warm_up"]
