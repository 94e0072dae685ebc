"""The admin pages: /dbs/backup/ (download) and /dbs/restore/ (upload, report, confirm).

Superusers only: anonymous users get the admin login page, everyone else 403. A
passphrase lives only in the request that carries it: it is not stored, logged, put in
the session or rendered back (the confirmation asks for it again), and the views are
marked sensitive so Django's error reports mask it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from functools import wraps
from pathlib import Path

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods
from django.views.debug import SafeExceptionReporterFilter

from .. import conf
from ..exceptions import DBSError
from ..naming import backup_name
from . import uploads
from .forms import BackupForm, RestoreConfirmForm, RestoreUploadForm

log = logging.getLogger("dbs.contrib")

#: Session key of the staged uploads awaiting confirmation: token -> name, size, SHA-256,
#: options. No passphrase, ever.
SESSION_KEY = "dbs_staged_restores"


class _AlwaysCleanse(SafeExceptionReporterFilter):
    """Masks the passphrase in error reports even with DEBUG on: Django's own filter shows
    everything in DEBUG, but a debug page must not show a backup's passphrase either."""

    def is_active(self, request):
        return True


def superuser_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.exception_reporter_filter = _AlwaysCleanse()
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.is_superuser:
            raise PermissionDenied(_("Backup and restore are for superusers only."))
        return view(request, *args, **kwargs)

    return wrapper


def page(request, template, title, status=200, **context):
    return render(request, template, {**admin.site.each_context(request), "title": title, **context}, status=status)


# -- download ------------------------------------------------------------------------


@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@superuser_required
@csrf_protect
def backup_view(request):
    form = BackupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _download(request, form.cleaned_data["passphrase"])
        except DBSError as exc:
            log.warning("admin backup by %s failed: %s", request.user, exc)
            form.add_error(None, str(exc))
    return page(request, "dbs/backup.html", _("Download a backup"), form=form)


@sensitive_variables()
def _download(request, passphrase):
    """Write and verify the backup into a private temporary directory, open it, unlink it
    at once: the open file streams to the client and the disk space is freed when the
    response closes it, whether the download completed or the client went away."""
    from .. import create_backup

    name = backup_name()
    tmpdir = tempfile.mkdtemp(prefix="dbs-download-", dir=conf.get("DBS_TEMP_DIR"))
    try:
        path = Path(tmpdir) / name
        result = create_backup(passphrase, output=str(path))
        handle = open(path, "rb")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    size = os.fstat(handle.fileno()).st_size
    log.info("admin backup downloaded by %s: %s, %d bytes, %d records, %d files",
             request.user, name, size, getattr(result, "records", 0), getattr(result, "files", 0))
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/octet-stream")


# -- restore -------------------------------------------------------------------------


@csrf_exempt  # checked by csrf_protect below, once the upload handlers are in place
@sensitive_variables()
@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@superuser_required
def restore_view(request):
    uploads.sweep()
    handler = uploads.StagingUploadHandler(request)
    request.upload_handlers = [handler]
    limit = conf.get("DBS_UPLOAD_MAX_BYTES")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if request.method == "POST" and length > limit + 64 * 1024:
        # Refused before a byte of the body is read.
        return _too_large(request, limit)
    try:
        return _restore(request, handler)
    finally:
        # Whatever happened (refused, CSRF failure, client gone, an error), an upload that
        # is not waiting for confirmation does not stay on disk.
        handler.upload_interrupted()
        waiting = request.session.get(SESSION_KEY, {})
        for token in handler.tokens:
            if token not in waiting:
                uploads.discard(token)


def _too_large(request, limit):
    message = _("The backup is larger than DBS_UPLOAD_MAX_BYTES (%(limit)s bytes): nothing was kept. "
                "Restore it with the dbs_restore command instead.") % {"limit": limit}
    return page(request, "dbs/restore.html", _("Restore from a backup"), form=RestoreUploadForm(),
                error=message, status=413)


@csrf_protect
@sensitive_variables()
def _restore(request, handler):
    if request.method == "GET":
        return page(request, "dbs/restore.html", _("Restore from a backup"), form=RestoreUploadForm())
    step = request.POST.get("step", "upload")
    if handler.too_large:
        return _too_large(request, handler.max_bytes)
    if step == "confirm":
        return _confirm(request)
    if step == "cancel":
        token = request.POST.get("token", "")
        staged = request.session.get(SESSION_KEY, {})
        if token in staged:
            uploads.discard(token)
            del staged[token]
            request.session[SESSION_KEY] = staged
        return page(request, "dbs/restore.html", _("Restore from a backup"), form=RestoreUploadForm(),
                    notice=_("Cancelled: the uploaded backup was removed, nothing was changed."))
    return _upload(request)


@sensitive_variables()
def _upload(request):
    from .. import restore_backup, validate_backup

    form = RestoreUploadForm(request.POST, request.FILES)
    staged = request.FILES.get("backup")
    if not form.is_valid():
        return page(request, "dbs/restore.html", _("Restore from a backup"), form=form)
    options = {"dry_run": form.cleaned_data["dry_run"], "flush": form.cleaned_data["flush"]}
    passphrase = form.cleaned_data["passphrase"]
    try:
        report = validate_backup(staged.temporary_file_path(), passphrase)
        if not report.ok:
            raise DBSError(report.summary())
        rehearsal = None
        if options["dry_run"]:
            rehearsal = restore_backup(staged.temporary_file_path(), passphrase, dry_run=True, flush=options["flush"])
    except DBSError as exc:
        log.warning("admin restore by %s: %s refused: %s", request.user, staged.name, exc)
        form.add_error(None, str(exc))
        return page(request, "dbs/restore.html", _("Restore from a backup"), form=form)
    pending = request.session.get(SESSION_KEY, {})
    pending[staged.token] = {"name": staged.name, "size": staged.size, "sha256": staged.sha256, **options}
    request.session[SESSION_KEY] = pending
    log.info("admin restore by %s: %s (%d bytes) validated%s", request.user, staged.name, staged.size,
             ", dry run done" if rehearsal else "")
    return page(
        request,
        "dbs/restore_report.html",
        _("Restore: check the report"),
        upload=pending[staged.token],
        report=report,
        rehearsal=rehearsal,
        manifest=getattr(report, "manifest", None) or {},
        form=RestoreConfirmForm(initial={"token": staged.token}),
        token=staged.token,
    )


@sensitive_variables()
def _confirm(request):
    from .. import restore_backup

    form = RestoreConfirmForm(request.POST)
    token = request.POST.get("token", "")
    pending = request.session.get(SESSION_KEY, {})
    upload = pending.get(token)
    path = uploads.staged_path(token) if upload else None
    if not upload or not path:
        return page(request, "dbs/restore.html", _("Restore from a backup"), form=RestoreUploadForm(),
                    error=_("This upload is no longer waiting for confirmation (done, cancelled or expired): "
                            "upload the backup again."), status=410)
    if not form.is_valid():
        return page(request, "dbs/restore_report.html", _("Restore: check the report"), upload=upload,
                    form=form, token=token, report=None, rehearsal=None, manifest={})
    try:
        if uploads.sha256_of(path) != upload["sha256"]:
            raise DBSError(_("The staged backup changed since it was checked: refused. Upload it again."))
        result = restore_backup(str(path), form.cleaned_data["passphrase"], dry_run=False, flush=upload["flush"])
    except DBSError as exc:
        log.warning("admin restore by %s of %s failed: %s", request.user, upload["name"], exc)
        form.add_error(None, str(exc))
        return page(request, "dbs/restore_report.html", _("Restore: check the report"), upload=upload,
                    form=form, token=token, report=None, rehearsal=None, manifest={}, status=422)
    del pending[token]
    request.session[SESSION_KEY] = pending
    uploads.discard(token)
    log.info("admin restore by %s of %s: %d records, %d files, healed=%s", request.user, upload["name"],
             result.records_loaded, result.files_written, result.healed)
    return page(request, "dbs/restore_done.html", _("Restore done"), upload=upload, result=result)
