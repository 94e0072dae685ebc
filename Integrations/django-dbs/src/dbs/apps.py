from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class DBSConfig(AppConfig):
    """Autodiscovers each installed app's dbs.py (as the admin does admin.py), where
    models are registered with backup_registry. The engine is not loaded here: it
    loads on first use, after any fork."""

    name = "dbs"
    verbose_name = "DBS backups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        autodiscover_modules("dbs")
