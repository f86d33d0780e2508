from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"

    def ready(self) -> None:
        # Register every app's handlers (`apps/<app>/operations.py`) in the web and the worker processes alike:
        # the web needs their titles, the worker runs them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("operations")
