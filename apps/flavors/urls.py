from django.urls import path

from apps.flavors import views

app_name = "flavors"

urlpatterns = [
    path("", views.flavor_list, name="list"),
    path("create/", views.flavor_create, name="create"),
    path("<str:flavor_id>/", views.flavor_detail, name="detail"),
    path("<str:flavor_id>/extra-specs/", views.flavor_extra_specs, name="extra_specs"),
    path("<str:flavor_id>/access/", views.flavor_access, name="access"),
    path("<str:flavor_id>/delete/", views.flavor_delete, name="delete"),
]
