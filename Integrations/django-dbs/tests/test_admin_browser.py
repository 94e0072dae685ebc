"""The admin pages once in a real browser: headless Chromium from Debian's packages,
driven by Selenium against pytest-django's live server. Log in as a superuser, download
a backup, upload it with dry run, read the report, confirm, see the result.

Screenshots go to $DBS_SCREENSHOTS (the committed ones in docs/django-admin/ were made
with DBS_SCREENSHOTS=docs/django-admin), else to the test's temporary directory."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import PASSPHRASE, media_files, table_rows

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def downloads(tmp_path):
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(downloads):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("the browser test needs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1200,900", "--lang=en-US"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "intl.accept_languages": "en-US"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path):
    directory = Path(os.environ.get("DBS_SCREENSHOTS") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def wait_for_download(directory: Path, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.suffix == ".dbs"]
        if done and not any(p.name.endswith(".crdownload") for p in directory.iterdir()):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download in {timeout} s: {list(directory.iterdir())}")


def test_download_then_upload_dry_run_confirm(browser, live_server, populated, downloads, shots, settings, tmp_path):
    from django.contrib.auth.models import User
    from selenium.webdriver.common.by import By
    from zoo.models import Article

    settings.DBS_UPLOAD_DIR = str(tmp_path / "uploads")
    User.objects.create_superuser("root", "root@example.com", "pw")
    find = browser.find_element

    browser.get(live_server.url + "/dbs/backup/")
    assert "/admin/login/" in browser.current_url  # anonymous: the login page
    find(By.NAME, "username").send_keys("root")
    find(By.NAME, "password").send_keys("pw")
    find(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.current_url.endswith("/dbs/backup/")
    assert find(By.CSS_SELECTOR, ".breadcrumbs").text.startswith("Home")
    find(By.NAME, "passphrase").send_keys(PASSPHRASE)
    find(By.NAME, "passphrase2").send_keys(PASSPHRASE)
    browser.save_screenshot(str(shots / "backup.png"))
    before = table_rows()  # the superuser included: the restore puts the same row back
    find(By.CSS_SELECTOR, "#dbs-backup-form input[type=submit]").click()
    downloaded = wait_for_download(downloads)
    assert downloaded.name.startswith("project-") and downloaded.stat().st_size > 8192

    media = media_files(settings.MEDIA_ROOT)
    assert media
    Article.objects.all().delete()  # what happens after a backup: rows and files lost
    shutil.rmtree(settings.MEDIA_ROOT)
    changed = table_rows()

    browser.get(live_server.url + "/admin/")
    find(By.CSS_SELECTOR, "#dbs-admin-links a[href='/dbs/restore/']").click()
    dry_run = find(By.NAME, "dry_run")
    assert dry_run.is_selected()  # on by default
    find(By.NAME, "backup").send_keys(str(downloaded))
    find(By.NAME, "passphrase").send_keys(PASSPHRASE)
    find(By.NAME, "flush").click()
    browser.save_screenshot(str(shots / "restore.png"))
    find(By.CSS_SELECTOR, "#dbs-restore-form input[type=submit]").click()

    validation = find(By.ID, "dbs-validation").text
    assert "intact" in validation and "decrypted and verified" in validation
    rehearsal = find(By.ID, "dbs-dry-run").text
    assert "Rows" in rehearsal and "zoo.Article" in rehearsal
    assert table_rows() == changed  # the dry run changed nothing
    browser.set_window_size(1200, 1400)
    browser.save_screenshot(str(shots / "restore-report.png"))
    assert PASSPHRASE not in browser.page_source

    find(By.CSS_SELECTOR, "#dbs-confirm-form input[name=passphrase]").send_keys(PASSPHRASE)
    find(By.CSS_SELECTOR, "#dbs-confirm-form input[name=confirm]").click()
    find(By.CSS_SELECTOR, "#dbs-confirm-form input[type=submit]").click()
    assert "was restored" in find(By.CSS_SELECTOR, ".messagelist .success").text
    result = find(By.ID, "dbs-result").text
    assert "no: the backup was intact" in result
    assert f"Files written {len(media)}" in result
    browser.save_screenshot(str(shots / "restore-done.png"))
    assert table_rows() == before
    assert media_files(settings.MEDIA_ROOT) == media
    assert os.listdir(settings.DBS_UPLOAD_DIR) == []
    assert PASSPHRASE not in browser.page_source
