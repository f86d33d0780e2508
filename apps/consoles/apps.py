from django.apps import AppConfig


class ConsolesConfig(AppConfig):
    name = "apps.consoles"
    label = "consoles"
