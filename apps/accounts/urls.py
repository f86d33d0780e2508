from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("project/", views.switch_project, name="switch_project"),
    path("region/", views.switch_region, name="switch_region"),
    path("api-access/", views.api_access, name="api_access"),
    path("api-access/clouds.yaml", views.clouds_yaml, name="clouds_yaml"),
]
