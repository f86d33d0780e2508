"""Parameters that may hold secrets leave `params`: a launch's user data is sealed (Fernet) while its operation is
pending or running, and erased from operations that have ended (as the runner now does when one ends)."""

from django.db import migrations, models

SEALED_PARAM = "user_data"  # the secret parameters known when this migration was written (server.launch)


def seal_or_erase(apps, schema_editor):
    from apps.operations import crypto

    Operation = apps.get_model("operations", "Operation")
    for op in Operation.objects.filter(kind="server.launch").only("id", "state", "params").iterator():
        params = dict(op.params or {})
        if SEALED_PARAM not in params:
            continue
        value = params.pop(SEALED_PARAM)
        sealed = ""
        if value:
            params["secret_params"] = sorted({*params.get("secret_params", []), SEALED_PARAM})
            if op.state in ("pending", "running"):
                sealed = crypto.seal_params({SEALED_PARAM: value})
        Operation.objects.filter(id=op.id).update(params=params, sealed_params=sealed)


def unseal(apps, schema_editor):
    """Back to parameters in the clear (the column goes): a pending or running operation's sealed parameters return
    to `params`, or its worker would run it without them (a launch without its user data). Erased ones stay erased.
    Sealed parameters this key cannot read stop the rollback rather than being lost silently."""
    from apps.operations import crypto

    Operation = apps.get_model("operations", "Operation")
    unreadable: list[str] = []
    for op in Operation.objects.exclude(sealed_params="").only("id", "params", "sealed_params").iterator():
        secrets = crypto.unseal_params(op.sealed_params)
        if secrets is None:
            unreadable.append(str(op.id))
            continue
        params = {k: v for k, v in (op.params or {}).items() if k != "secret_params"}
        Operation.objects.filter(id=op.id).update(params={**params, **secrets}, sealed_params="")
    if unreadable:
        raise RuntimeError(
            "Cannot roll back operations.0003: the sealed parameters of operations "
            + ", ".join(unreadable)
            + " cannot be read with this STRATUS_FERNET_KEY (set the key they were sealed with, or delete them)."
        )


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
        migrations.RunPython(seal_or_erase, unseal),
    ]
