"""Parameters that may hold secrets leave `params`: a launch's user data is sealed (Fernet) while its operation is
pending or running, and erased from operations that have ended (as the runner now does when one ends)."""

from django.db import migrations, models

SECRET = "user_data"  # the secret parameters known when this migration was written (server.launch)


def seal_or_erase(apps, schema_editor):  # noqa: ANN001, ANN201
    from apps.operations import crypto

    Operation = apps.get_model("operations", "Operation")
    for op in Operation.objects.filter(kind="server.launch").only("id", "state", "params").iterator():
        params = dict(op.params or {})
        if SECRET not in params:
            continue
        value = params.pop(SECRET)
        sealed = ""
        if value:
            params["secret_params"] = sorted({*params.get("secret_params", []), SECRET})
            if op.state in ("pending", "running"):
                sealed = crypto.seal_params({SECRET: value})
        Operation.objects.filter(id=op.id).update(params=params, sealed_params=sealed)


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0002_timings"),
    ]

    operations = [
        migrations.AddField(
            model_name="operation",
            name="sealed_params",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(seal_or_erase, migrations.RunPython.noop),
    ]
