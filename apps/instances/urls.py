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
    path("<str:server_id>/interfaces/attach/", views.attach_interface, name="attach_interface"),
    path("<str:server_id>/interfaces/<str:port_id>/detach/", views.detach_interface, name="detach_interface"),
    path("<str:server_id>/floating-ips/associate/", views.add_floating_ip, name="add_floating_ip"),
    path(
        "<str:server_id>/floating-ips/<str:floating_ip_id>/disassociate/",
        views.remove_floating_ip,
        name="remove_floating_ip",
    ),
    path("<str:server_id>/security-groups/add/", views.add_security_group, name="add_security_group"),
    path(
        "<str:server_id>/security-groups/<str:group_id>/remove/",
        views.remove_security_group,
        name="remove_security_group",
    ),
    path("<str:server_id>/volumes/attach/", views.attach_volume, name="attach_volume"),
    path("<str:server_id>/volumes/<str:volume_id>/detach/", views.detach_volume, name="detach_volume"),
    path("<str:server_id>/rescue-password/", views.rescue_password, name="rescue_password"),
    path("<str:server_id>/metadata/set/", views.set_metadata, name="set_metadata"),
    path("<str:server_id>/metadata/remove/", views.delete_metadata, name="delete_metadata"),
    path("<str:server_id>/tags/add/", views.add_tag, name="add_tag"),
    path("<str:server_id>/tags/remove/", views.remove_tag, name="remove_tag"),
    path("<str:server_id>/<str:action>/", views.server_action, name="action"),
]
