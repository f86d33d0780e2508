from django.urls import path

from apps.servergroups import views

app_name = "servergroups"

urlpatterns = [
    path("", views.server_group_list, name="list"),
    path("create/", views.server_group_create, name="create"),
    path("<str:group_id>/delete/", views.server_group_delete, name="delete"),
]
