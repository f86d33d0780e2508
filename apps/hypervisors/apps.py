from django.apps import AppConfig


class HypervisorsConfig(AppConfig):
    name = "apps.hypervisors"
    label = "hypervisors"
