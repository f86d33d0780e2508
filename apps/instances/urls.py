from django.urls import path

from apps.instances import views

app_name = "instances"

urlpatterns = [
    path("", views.server_list, name="list"),
    path("poll/", views.poll, name="poll"),
    path("filters/", views.filters_panel, name="filters"),
    path("bulk/", views.bulk, name="bulk"),
    path("launch/", views.launch, name="launch"),
    path("<str:server_id>/", views.server_detail, name="detail"),
    path("<str:server_id>/console-log.txt", views.console_log_download, name="console_log"),
    path("<str:server_id>/actions/<str:request_id>/events/", views.action_events, name="action_events"),
    path("<str:server_id>/<str:action>/", views.server_action, name="action"),
]
