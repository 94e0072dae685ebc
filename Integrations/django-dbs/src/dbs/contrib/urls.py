"""``path("dbs/", include("dbs.contrib.urls"))``: /dbs/backup/ and /dbs/restore/."""

from django.urls import path

from . import admin_index, views

app_name = "dbs"

urlpatterns = [
    path("backup/", views.backup_view, name="backup"),
    path("restore/", views.restore_view, name="restore"),
]

admin_index.install()
