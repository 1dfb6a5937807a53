"""The portal's forms. They only collect input: the services validate it and give the reasons."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gateway.models import AppealOutcome, EligibilityReviewOutcome
from gateway.services.accounts import account_of
from gateway.services.appeals import DECISION_WORKING_DAYS, MAX_TEXT_CHARS, MAX_WORKING_DAYS
from gateway.services.free_text import IDENTITY_NUMBER_IN_TEXT
from gateway.services.repairs import REFERENCE_MAX_CHARS, STATEMENT_MAX_CHARS


class LoginForm(AuthenticationForm):
    """A login of a resident, reviewer or regulator; any other login is refused like a wrong one."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if account_of(user) is None:
            raise self.get_invalid_login_error()


def _text(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_TEXT_CHARS}),
    )


class StatementForm(forms.Form):
    statement = _text(_("Your statement"))


class RepairForm(forms.Form):
    """An application for credit repair; ``repair_apply`` checks both fields."""

    statement = forms.CharField(
        label=_("What you did to rectify the act"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": STATEMENT_MAX_CHARS}),
    )
    reference = forms.CharField(
        label=_("Proof of rectification (a receipt, certificate or case number)"),
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": REFERENCE_MAX_CHARS}),
    )


class DecisionForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        widget=forms.RadioSelect(choices=AppealOutcome.choices),
    )
    points = forms.CharField(
        label=_("Corrected points (only for a corrected outcome)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    reason = _text(_("Reasons (the resident is told them)"))


class EligibilityDecisionForm(forms.Form):
    """A person's decision on an automated eligibility answer; the service checks both fields."""

    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        widget=forms.RadioSelect(choices=EligibilityReviewOutcome.choices),
    )
    reason = _text(_("Reasons (the resident is told them)"))


def _working_days_label() -> str:
    return gettext("New total of working days from filing (%(low)d to %(high)d)") % {
        "low": DECISION_WORKING_DAYS + 1,
        "high": MAX_WORKING_DAYS,
    }


class ExtensionForm(forms.Form):
    working_days = forms.CharField(
        label=lazy(_working_days_label, str)(),
        required=False,
        initial=MAX_WORKING_DAYS,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    reason = _text(_("Reason for the extension"))


def as_int(value: str, default: Any = None) -> Any:
    """A whole number typed into a form, else the text itself, for the service to refuse."""
    text = (value or "").strip()
    if not text:
        return default
    sign = -1 if text[0] in "-−" else 1
    digits = text[1:] if text[0] in "+-−" else text
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        return sign * int(digits)
    return text


def add_problems(form: forms.Form, error) -> None:
    """Put a service's problems (``/field`` paths) on the form's fields, the rest on the form."""
    refused_text = set()
    for item in error.details.get("problems", []):
        name = str(item.get("path", "")).lstrip("/")
        form.add_error(name if name in form.fields else None, item.get("message", ""))
        if item.get("message") == str(IDENTITY_NUMBER_IN_TEXT):
            refused_text.add(name)
    for item in error.details.get("violations", []):
        name = str(item.get("path", "")).lstrip("/")
        if name in form.fields and name not in refused_text:
            form.add_error(name, str(error.message))
        refused_text.add(name)
    if not error.details.get("problems") and not error.details.get("violations"):
        form.add_error(None, str(error.message))
    # The page does not show refused text again (prohibited data, an identity number).
    if refused_text & set(form.fields):
        form.data = form.data.copy()
        for name in refused_text & set(form.fields):
            form.data[form.add_prefix(name)] = ""
