"""Links to the DBS pages on the admin index.

Including ``dbs.contrib.urls`` calls ``install()``: the default admin site then renders
``dbs/admin_index.html`` (in the app's templates/), which extends the admin's own index with a "Backups (DBS)"
module. A site with its own ``index_template`` is left alone; include
``dbs/admin_index.html``'s block in it, or link to ``{% url 'dbs:backup' %}``.
"""

from django.contrib import admin

TEMPLATE = "dbs/admin_index.html"


def install(site=None) -> None:
    site = site or admin.site
    if site.index_template is None:
        site.index_template = TEMPLATE
