from django.urls import path

from apps.snapshots import views

app_name = "snapshots"

urlpatterns = [
    path("", views.snapshot_list, name="list"),
    path("create/", views.snapshot_create, name="create"),
    path("server-names/", views.snapshot_server_names, name="server-names"),
    path("<str:image_id>/", views.snapshot_detail, name="detail"),
    path("<str:image_id>/delete/", views.snapshot_delete, name="delete"),
]
