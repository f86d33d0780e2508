"""Key pair pages: list, detail (public key with a copy button), create (private key offered once), import,
delete. Key pairs belong to the signed-in user, in every project."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest
from apps.cloud.errors import BadRequest, Conflict, OverQuota
from apps.keypairs import selectors, services
from apps.keypairs.forms import CreateKeypairForm, ImportKeypairForm

# Nova's refusals that belong to the form (a taken name, a bad key, the quota) rather than to an error page.
FORM_ERRORS = (BadRequest, Conflict, OverQuota)


def _refusal_field(exc: Exception, default: str) -> str | None:
    """The form field Nova's refusal is about (None: the form as a whole)."""
    if isinstance(exc, OverQuota):
        return None
    text = str(exc).lower()
    return "name" if isinstance(exc, Conflict) or "name" in text else default


@login_required
def keypair_list(request: AuthedRequest) -> HttpResponse:
    keypairs = selectors.list_keypairs(creds=request.creds)
    return render(request, "keypairs/list.html", {"keypairs": keypairs})


@login_required
@never_cache
def keypair_detail(request: AuthedRequest, name: str) -> HttpResponse:
    keypair = selectors.get_keypair(creds=request.creds, name=name)
    context = {
        "keypair": keypair,
        "private_pending": services.has_private_key(request.session, name=keypair.name),
        "cli_show": f"openstack keypair show --public-key {services.q(keypair.name)}",
        "cli_delete": f"openstack keypair delete {services.q(keypair.name)}",
    }
    return render(request, "keypairs/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def keypair_create(request: AuthedRequest) -> HttpResponse:
    form = CreateKeypairForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            private = services.create_keypair(
                creds=request.creds,
                name=name,
                algorithm=form.cleaned_data["algorithm"],
            )
        except FORM_ERRORS as exc:
            form.add_error(_refusal_field(exc, "name"), exc.message)
        else:
            services.hold_private_key(request.session, name=name, private_key=private)
            del private
            messages.success(request, _("Key pair %(name)s created. Download its private key now.") % {"name": name})
            return redirect("keypairs:detail", name=name)
    data = form.data if form.is_bound else {}
    cli = services.cli_create(data.get("name", ""), data.get("algorithm", "ed25519"))
    return render(request, "keypairs/create.html", {"form": form, "cli": cli}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def keypair_import(request: AuthedRequest) -> HttpResponse:
    form = ImportKeypairForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            services.import_keypair(creds=request.creds, name=name, public_key=form.key)
        except FORM_ERRORS as exc:
            form.add_error(_refusal_field(exc, "public_key"), exc.message)
        else:
            messages.success(request, _("Key pair %(name)s imported.") % {"name": name})
            return redirect("keypairs:detail", name=name)
    cli = services.cli_import(form.data.get("name", "") if form.is_bound else "")
    return render(request, "keypairs/import.html", {"form": form, "cli": cli}, status=400 if form.errors else 200)


@login_required
@require_POST
@never_cache
def keypair_private_key(request: AuthedRequest, name: str) -> HttpResponse:
    """The generated private key, once: it leaves the session as it is sent."""
    private = services.take_private_key(request.session, name=name)
    if private is None:
        return render(request, "keypairs/private_gone.html", {"name": name}, status=410)
    filename = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) + ".pem"
    response = HttpResponse(private, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def keypair_delete(request: AuthedRequest, name: str) -> HttpResponse:
    services.delete_keypair(creds=request.creds, name=name)
    services.discard_private_key(request.session, name=name)
    messages.success(request, _("Key pair %(name)s deleted.") % {"name": name})
    return redirect("keypairs:list")
