from django.apps import AppConfig


class FlavorsConfig(AppConfig):
    name = "apps.flavors"
    label = "flavors"
