from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from dashboard.files import restrict_sqlite_file

        # The session table (sealed Keystone tokens) lives in the database: an SQLite file is its owner's only.
        connection_created.connect(restrict_sqlite_file, dispatch_uid="stratus-restrict-sqlite-file")
