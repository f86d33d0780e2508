from django.apps import AppConfig


class ServerGroupsConfig(AppConfig):
    name = "apps.servergroups"
    label = "servergroups"
