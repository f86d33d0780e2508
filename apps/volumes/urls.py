from django.urls import path

from apps.volumes import views

app_name = "volumes"

urlpatterns = [
    path("", views.volume_list, name="list"),
    path("create/", views.volume_create, name="create"),
    path("<str:volume_id>/extend/", views.volume_extend, name="extend"),
    path("<str:volume_id>/delete/", views.volume_delete, name="delete"),
]
