from dbs import FieldType, ModelBackup, backup_registry

from .models import Article


@backup_registry.register(Article)
class ArticleBackup(ModelBackup):
    overrides = {"scan_path": FieldType.FILE_PATH, "render_cache": FieldType.EXCLUDE}
