"""The layout of a Django backup inside the DBS payload (all of it encrypted).

    manifest.json                 records, label dbs.manifest   (always first)
    rows/<label>/<n>              records, label <label>: JSON lines, one batch
    files/<label>/<attname>/<name> file: a FileField's file (after its batch)
    paths/<label>/<attname>/<absolute path without its leading />  file: a FILE_PATH column's file
    roots/<i>/<relative path>      file: under file root i of the manifest
    summary.json                   records, label dbs.summary   (always last)

A container made by `dbs backup` (a file tree) has no manifest entry: the restore
names it as such instead of guessing.
"""
FORMAT = "django-dbs"
PAYLOAD_VERSION = 1
MANIFEST_PATH, MANIFEST_LABEL = "manifest.json", "dbs.manifest"
SUMMARY_PATH, SUMMARY_LABEL = "summary.json", "dbs.summary"
ROWS, FILES, PATHS, ROOTS = "rows/", "files/", "paths/", "roots/"


def rows_path(label, batch):
    return f"{ROWS}{label}/{batch:08d}"


def file_path(label, attname, name):
    return f"{FILES}{label}/{attname}/{name}"


def split_file_path(path):
    """(label, attname, name) of a files/ entry."""
    label, attname, name = path[len(FILES):].split("/", 2)
    return label, attname, name


def path_entry(label, attname, absolute):
    return f"{PATHS}{label}/{attname}/{absolute.lstrip('/')}"


def split_path_entry(path):
    """(label, attname, absolute path) of a paths/ entry."""
    label, attname, rest = path[len(PATHS):].split("/", 2)
    return label, attname, "/" + rest


def root_entry(index, relative):
    return f"{ROOTS}{index}/{relative}"


def split_root_entry(path):
    index, relative = path[len(ROOTS):].split("/", 1)
    return int(index), relative
