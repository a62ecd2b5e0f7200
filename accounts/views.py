from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import RedeemForm
from .services import code_redeem


@require_http_methods(["GET", "POST"])
def star(request):
    """"Become a Star Member": the perks, and a form for members to redeem a code."""
    form = RedeemForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                member = code_redeem(member=request.user, code=form.cleaned_data["code"])
            except ValidationError as error:
                form.add_error("code", error)
            except PermissionDenied as refusal:
                form.add_error(None, str(refusal))
            else:
                until = date_format(timezone.localtime(member.star_until), "DATE_FORMAT")
                messages.success(
                    request, _("Thank you! You are a Star Member until %(date)s.") % {"date": until}
                )
                return redirect("accounts:star")
    status = 400 if form.errors else 200
    megabyte = 1024 * 1024
    return render(request, "accounts/star.html", {
        "form": form,
        "picture_mb": settings.FORUMS_PICTURE_BYTES_PER_DAY // megabyte,
        "star_picture_mb": settings.FORUMS_PICTURE_BYTES_PER_DAY_STAR // megabyte,
    }, status=status)
