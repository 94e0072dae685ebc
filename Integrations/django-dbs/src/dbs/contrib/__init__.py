"""The admin pages: download a fresh backup, upload one and restore it.

``urlpatterns += [path("dbs/", include("dbs.contrib.urls"))]``; superusers only.
"""
