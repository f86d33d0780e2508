from django.urls import path

from apps.consoles import views

app_name = "consoles"

urlpatterns = [
    path("<str:server_id>/", views.open_console, name="open"),
    path("<str:server_id>/token/", views.fresh_token, name="token"),
    path("<str:server_id>/status/", views.server_status, name="status"),
]
