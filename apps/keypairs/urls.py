from django.urls import path

from apps.keypairs import views

app_name = "keypairs"

urlpatterns = [
    path("", views.keypair_list, name="list"),
    path("create/", views.keypair_create, name="create"),
    path("import/", views.keypair_import, name="import"),
    path("<str:name>/", views.keypair_detail, name="detail"),
    path("<str:name>/private-key/", views.keypair_private_key, name="private_key"),
    path("<str:name>/delete/", views.keypair_delete, name="delete"),
]
