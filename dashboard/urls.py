"""URLs: one namespace per app. Admin areas live under /admin/ and answer 403 to members."""

from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from apps.accounts import views as account_views

urlpatterns = [
    path("", account_views.index, name="home"),
    path("auth/", include("apps.accounts.urls")),
    path("overview/", include("apps.overview.urls")),
    path("instances/", include("apps.instances.urls")),
    path("flavors/", include("apps.flavors.urls")),
    path("keypairs/", include("apps.keypairs.urls")),
    path("snapshots/", include("apps.snapshots.urls")),
    path("network/", include("apps.networks.urls")),
    path("volumes/", include("apps.volumes.urls")),
    path("server-groups/", include("apps.servergroups.urls")),
    path("activity/", include("apps.operations.urls")),
    path("admin/hypervisors/", include("apps.hypervisors.urls")),
    path("console/", include("apps.consoles.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/catalog.js", JavaScriptCatalog.as_view(), name="javascript_catalog"),
]

handler403 = "dashboard.views.forbidden"
handler404 = "dashboard.views.not_found"
handler500 = "dashboard.views.server_error"
