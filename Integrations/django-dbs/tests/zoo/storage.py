from django.core.files.storage import FileSystemStorage


class RefusingStorage(FileSystemStorage):
    """A storage whose disk is full: every write fails (the storage-error test)."""

    def _save(self, name, content):
        raise OSError(28, "No space left on device")
