"""Settings of the test project. DBS_TEST_DATABASE=sqlite (default) or postgresql
selects the default database; with PostgreSQL reachable (DBS_TEST_PG_PORT set),
the other engine is the `other` alias, so a backup made on one restores into the
other in the same run."""
import os
import tempfile

BASE = os.path.dirname(os.path.abspath(__file__))
SCRATCH = os.environ.get("DBS_TEST_SCRATCH") or tempfile.mkdtemp(prefix="dbs-test-project-")

SECRET_KEY = "test-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
ROOT_URLCONF = "project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",  # the admin's CSS in the browser test (live_server serves it)
    "dbs",
    "zoo",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]

# The test runner uses in-memory SQLite databases; the demo and subprocess tests use the files.
SQLITE = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(SCRATCH, "db.sqlite3")}
SQLITE_OTHER = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(SCRATCH, "other.sqlite3")}
PG_PORT = os.environ.get("DBS_TEST_PG_PORT")
POSTGRESQL = {
    "ENGINE": "django.db.backends.postgresql", "NAME": "dbs", "USER": os.environ.get("DBS_TEST_PG_USER", "postgres"),
    "HOST": os.environ.get("DBS_TEST_PG_HOST", "127.0.0.1"), "PORT": PG_PORT or "5432",
}
POSTGRESQL_OTHER = dict(POSTGRESQL, NAME="dbs_other")

if os.environ.get("DBS_TEST_DATABASE", "sqlite") == "postgresql":
    DATABASES = {"default": POSTGRESQL, "other": SQLITE_OTHER}
else:
    DATABASES = {"default": SQLITE, "other": POSTGRESQL_OTHER if PG_PORT else SQLITE_OTHER}

MEDIA_ROOT = os.path.join(SCRATCH, "media")
STATIC_URL = "static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Cheap Argon2id for tests (the engine's defaults cost 64 MiB and ~0.2 s per open).
DBS_KDF = {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}
DBS_THREADS = int(os.environ.get("DBS_TEST_THREADS", "2"))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast fixtures
DBS_RESTORE_ROOTS = [SCRATCH]  # FILE_PATH files (the scans of the zoo) are restored under the scratch directory
