"""The admin pages with Django's test client: permissions, CSRF, the whole download and
restore flow, and the passphrase absent from every response, log record and session."""

from __future__ import annotations

import logging
import os

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.views.debug import ExceptionReporter

from conftest import PASSPHRASE, damage, table_rows

# Plain (rolled back) test transactions: the restore's own transaction nests as a savepoint.
pytestmark = pytest.mark.django_db

BACKUP, RESTORE = "/dbs/backup/", "/dbs/restore/"


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    settings.DBS_TEMP_DIR = str(tmp_path / "tmp")
    settings.DBS_UPLOAD_DIR = str(tmp_path / "uploads")
    os.makedirs(settings.DBS_TEMP_DIR)
    return tmp_path


class Records:
    """Every log record of the test so far, from every logger, read when iterated."""

    def __init__(self, caplog):
        self.caplog = caplog

    def __iter__(self):
        return iter(self.caplog.get_records("setup") + self.caplog.get_records("call"))


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.DEBUG)
    return Records(caplog)


@pytest.fixture
def admin_client(db):
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.login(username="root", password="pw")
    return client


def open_downloads() -> int:
    """Open file descriptors of this process on (deleted) admin download files."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += "dbs-download-" in os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return count


def staged(settings) -> list[str]:
    return sorted(os.listdir(settings.DBS_UPLOAD_DIR)) if os.path.isdir(settings.DBS_UPLOAD_DIR) else []


def no_passphrase_anywhere(*responses, records=(), passphrase=PASSPHRASE):
    for response in responses:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert passphrase.encode() not in body
        assert passphrase not in str(response.headers)
    for record in records:
        assert passphrase not in record.getMessage()
        if record.exc_info:
            assert passphrase not in logging.Formatter().formatException(record.exc_info)
    for session in Session.objects.all():
        assert passphrase not in str(session.get_decoded())
        assert passphrase not in session.session_data


# -- who may see the pages -----------------------------------------------------------


@pytest.mark.parametrize("url", [BACKUP, RESTORE])
def test_anonymous_users_get_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"
    assert client.post(url, {"passphrase": "x", "passphrase2": "x"}).status_code == 302


@pytest.mark.parametrize("url", [BACKUP, RESTORE])
@pytest.mark.parametrize("staff", [True, False])
def test_users_who_are_not_superusers_get_403(client, url, staff):
    User.objects.create_user("ed", password="pw", is_staff=staff)
    client.login(username="ed", password="pw")
    assert client.get(url).status_code == 403
    assert client.post(url, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE}).status_code == 403


def test_pages_fit_the_admin_and_the_index_links_to_them(admin_client):
    for url, title in ((BACKUP, "Download a backup"), (RESTORE, "Restore from a backup")):
        html = admin_client.get(url).content.decode()
        assert '<div class="breadcrumbs">' in html and 'href="/admin/"' in html
        assert f"<h1>{title}</h1>" in html
        assert "Django administration" in html  # admin/base_site.html's branding
    index = admin_client.get("/admin/").content.decode()
    assert 'id="dbs-admin-links"' in index
    assert f'href="{BACKUP}"' in index and f'href="{RESTORE}"' in index


def test_the_index_shows_no_links_to_staff(client):
    User.objects.create_user("ed", password="pw", is_staff=True)
    client.login(username="ed", password="pw")
    assert "dbs-admin-links" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("url", [BACKUP, RESTORE])
def test_posts_without_the_csrf_token_are_refused(url, settings, tmp_path):
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client(enforce_csrf_checks=True)
    client.login(username="root", password="pw")
    upload = tmp_path / "x.dbs"
    upload.write_bytes(b"not checked")
    with open(upload, "rb") as f:
        response = client.post(url, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE, "backup": f})
    assert response.status_code == 403
    assert staged(settings) == []  # the upload was parsed to read the token, then removed


# -- download ------------------------------------------------------------------------


def test_download_streams_a_verified_backup_and_leaves_no_file(admin_client, populated, settings, records):
    from dbs import validate_backup

    form = admin_client.get(BACKUP)
    assert form.status_code == 200
    response = admin_client.post(BACKUP, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE})
    assert response.status_code == 200 and response.streaming
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="project-') and disposition.endswith('Z.dbs"')
    # Unlinked before the first byte is sent: nothing stays behind, however the download ends.
    assert os.listdir(settings.DBS_TEMP_DIR) == []
    body = b"".join(response.streaming_content)  # the test client closes the response at the end
    assert int(response["Content-Length"]) == len(body)
    assert open_downloads() == 0
    path = settings.DBS_TEMP_DIR + "/downloaded.dbs"
    with open(path, "wb") as f:
        f.write(body)
    report = validate_backup(path, PASSPHRASE)
    assert report.ok and report.decrypted and not report.healed
    assert PASSPHRASE.encode() not in body
    no_passphrase_anywhere(form, records=records)


@pytest.mark.django_db(transaction=True)  # response.close() ends the request: Django closes the connection
def test_a_client_that_goes_away_closes_the_file(admin_client, populated, settings):
    response = admin_client.post(BACKUP, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE})
    next(iter(response.streaming_content))  # the client read a little, then disconnected
    assert os.listdir(settings.DBS_TEMP_DIR) == []
    assert open_downloads() == 1            # the unlinked file, held only by the response
    response.close()                        # what the WSGI server does then
    assert open_downloads() == 0            # its space is freed


def test_passphrases_that_differ_or_are_empty_are_refused(admin_client, records):
    response = admin_client.post(BACKUP, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE + "!"})
    assert response.status_code == 200 and "The two passphrases differ." in response.content.decode()
    empty = admin_client.post(BACKUP, {"passphrase": "", "passphrase2": ""})
    assert "This field is required." in empty.content.decode()
    no_passphrase_anywhere(response, empty, records=records)
    no_passphrase_anywhere(response, records=records, passphrase=PASSPHRASE + "!")


@pytest.mark.parametrize("debug", [True, False])
def test_an_unexpected_error_report_masks_the_passphrase(admin_client, settings, records, debug):
    settings.DBS_TEMP_DIR = "/nonexistent/dbs-temp"  # the view fails with FileNotFoundError
    admin_client.raise_request_exception = False
    settings.DEBUG = debug
    response = admin_client.post(BACKUP, {"passphrase": PASSPHRASE, "passphrase2": PASSPHRASE})
    assert response.status_code == 500
    assert ("FileNotFoundError" in response.content.decode()) == debug  # the technical 500 page
    error = next(r for r in list(records) if r.name == "django.request" and r.exc_info)
    text = ExceptionReporter(error.request, *error.exc_info).get_traceback_text()  # the error e-mail
    assert "passphrase" in text and PASSPHRASE not in text  # the POST key shown, its value masked
    no_passphrase_anywhere(response, records=records)


# -- restore -------------------------------------------------------------------------


@pytest.fixture
def backup_file(admin_client, populated, tmp_path):
    """A backup of the zoo and of the superuser doing the restore (a replace-mode restore
    puts the same row back, so the session stays valid), and the rows it holds."""
    from dbs import create_backup

    rows = table_rows()
    path = tmp_path / "site-20260101T000000Z.dbs"
    create_backup(PASSPHRASE, output=str(path))
    return path, rows


def change_the_data():
    """What happened since the backup: rows deleted and added."""
    from zoo.models import Article, Tag

    Article.objects.all().delete()
    Tag.objects.create(name="after the backup")
    return table_rows()


def upload(client, path, passphrase=PASSPHRASE, **fields):
    fields = {"dry_run": "on", "flush": "on", **fields}
    with open(path, "rb") as f:
        return client.post(RESTORE, {"step": "upload", "backup": f, "passphrase": passphrase,
                                     **{k: v for k, v in fields.items() if v is not None}})


def token_of(response) -> str:
    return response.context["token"]


def test_restore_flow_dry_run_report_then_confirmation(admin_client, backup_file, settings, records):
    path, rows = backup_file
    changed = change_the_data()
    report = upload(admin_client, path)
    html = report.content.decode()
    assert report.status_code == 200, html
    assert 'id="dbs-validation"' in html and "intact" in html
    assert 'id="dbs-dry-run"' in html
    rehearsal = report.context["rehearsal"]
    assert rehearsal.dry_run and rehearsal.records_loaded == sum(len(r) for r in rows.values())
    assert table_rows() == changed  # nothing changed by the dry run
    token = token_of(report)
    assert staged(settings) == [f"{token}.dbs"]
    assert 'name="passphrase"' in html and 'value="' + PASSPHRASE not in html

    missing = admin_client.post(RESTORE, {"step": "confirm", "token": token, "passphrase": PASSPHRASE})
    assert "This field is required." in missing.content.decode()  # the explicit confirmation box
    wrong = admin_client.post(RESTORE, {"step": "confirm", "token": token, "passphrase": "wrong", "confirm": "on"})
    assert wrong.status_code == 422 and table_rows() == changed
    assert staged(settings) == [f"{token}.dbs"]  # still waiting: type it again

    done = admin_client.post(RESTORE, {"step": "confirm", "token": token, "passphrase": PASSPHRASE, "confirm": "on"})
    assert done.status_code == 200, done.content.decode()
    result = done.context["result"]
    assert not result.dry_run and result.records_loaded == rehearsal.records_loaded and not result.healed
    assert 'id="dbs-result"' in done.content.decode()
    assert table_rows() == rows
    assert staged(settings) == []
    again = admin_client.post(RESTORE, {"step": "confirm", "token": token, "passphrase": PASSPHRASE, "confirm": "on"})
    assert again.status_code == 410  # a confirmation is used once
    no_passphrase_anywhere(report, missing, wrong, done, again, records=records)


def test_without_dry_run_the_report_still_comes_first(admin_client, backup_file):
    path, rows = backup_file
    changed = change_the_data()
    report = upload(admin_client, path, dry_run=None)
    assert report.context["rehearsal"] is None and report.context["report"].ok
    assert "Mode: replace" in report.content.decode()
    assert table_rows() == changed
    done = admin_client.post(RESTORE, {"step": "confirm", "token": token_of(report), "passphrase": PASSPHRASE,
                                       "confirm": "on"})
    assert done.status_code == 200 and table_rows() == rows


def test_a_damaged_backup_is_reported_healed(admin_client, backup_file):
    path, _ = backup_file
    damage(path, "A", 8192 + 100, length=500)  # inside the first stripe of copy A
    report = upload(admin_client, path)
    assert report.context["report"].healed
    assert "damaged, repaired" in report.content.decode()


def test_wrong_passphrase_and_garbage_are_refused_and_not_kept(admin_client, backup_file, settings, tmp_path, records):
    path, _ = backup_file
    wrong = upload(admin_client, path, passphrase="not the passphrase")
    assert wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    garbage = tmp_path / "garbage.dbs"
    garbage.write_bytes(os.urandom(50_000))
    refused = upload(admin_client, garbage)
    assert "errorlist" in refused.content.decode()
    assert staged(settings) == []
    no_passphrase_anywhere(wrong, refused, records=records, passphrase="not the passphrase")
    no_passphrase_anywhere(wrong, refused, records=records)


def test_uploads_over_the_limit_are_refused_without_keeping_anything(admin_client, backup_file, settings):
    path, _ = backup_file
    settings.DBS_UPLOAD_MAX_BYTES = 10_000
    response = upload(admin_client, path)
    assert response.status_code == 413
    assert "larger than DBS_UPLOAD_MAX_BYTES (10000 bytes)" in response.content.decode()
    assert staged(settings) == []


def test_the_limit_holds_while_streaming_too(backup_file, settings, rf):
    """A body without Content-Length (chunked) is cut at the limit by the upload handler."""
    from dbs.contrib.uploads import StagingUploadHandler
    from django.core.files.uploadhandler import StopUpload

    settings.DBS_UPLOAD_MAX_BYTES = 100
    handler = StagingUploadHandler()
    handler.new_file("backup", "x.dbs", "application/octet-stream", None)
    handler.receive_data_chunk(b"x" * 60, 0)
    assert staged(settings) == [f"{handler.tokens[0]}.dbs"]
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert handler.too_large and staged(settings) == []


def test_cancel_removes_the_upload(admin_client, backup_file, settings):
    path, _ = backup_file
    token = token_of(upload(admin_client, path))
    assert staged(settings) == [f"{token}.dbs"]
    response = admin_client.post(RESTORE, {"step": "cancel", "token": token})
    assert "Cancelled" in response.content.decode()
    assert staged(settings) == []


def test_a_staged_file_changed_after_the_report_is_refused(admin_client, backup_file, settings):
    path, rows = backup_file
    token = token_of(upload(admin_client, path))
    changed = change_the_data()
    with open(os.path.join(settings.DBS_UPLOAD_DIR, f"{token}.dbs"), "r+b") as f:
        f.seek(-1, os.SEEK_END)
        f.write(b"\x00")
    response = admin_client.post(RESTORE, {"step": "confirm", "token": token, "passphrase": PASSPHRASE, "confirm": "on"})
    assert response.status_code == 422 and "changed since it was checked" in response.content.decode()
    assert table_rows() == changed


def test_another_users_token_is_not_accepted(admin_client, backup_file, settings):
    path, _ = backup_file
    token = token_of(upload(admin_client, path))
    User.objects.create_superuser("other", "o@example.com", "pw")
    other = Client()
    other.login(username="other", password="pw")
    response = other.post(RESTORE, {"step": "confirm", "token": token, "passphrase": PASSPHRASE, "confirm": "on"})
    assert response.status_code == 410
