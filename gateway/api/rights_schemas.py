"""Serializers that document the residents' and reviewers' API in the OpenAPI schema.

Input is validated by the services (so the portal gets the same answers); these
classes describe the contract.
"""

from rest_framework import serializers

from audit.actions import ActorKind
from gateway.api.schemas import Bilingual, Error, InvalidError, LegalBasis
from gateway.models import AppealOutcome, AppealStatus, EventKind, EventStatus, Role

__all__ = ["Error", "InvalidError"]


class TokenRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once; only its hash is kept")
    role = serializers.ChoiceField(Role.values)
    expires_at = serializers.DateTimeField()


class MyScore(serializers.Serializer):
    score = serializers.IntegerField(help_text="Counting every record, disputed ones too")
    score_without_disputed = serializers.IntegerField()
    score_for_departments = serializers.IntegerField(
        help_text="What departments are told: deductions only within their publication "
        "period (State Council General Office 2025 No. 22)"
    )
    as_of = serializers.DateTimeField()
    eligibility = serializers.DictField(
        child=serializers.BooleanField(), help_text="If the disputed deductions stand"
    )
    eligibility_without_disputed = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="What departments are told while objections are pending (SH 36)",
    )
    disputed_points = serializers.IntegerField()


class RuleRef(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    title = Bilingual()
    legal_basis = LegalBasis()


class DepartmentRef(serializers.Serializer):
    code = serializers.CharField()
    title = Bilingual(allow_null=True)


class EvidenceOut(serializers.Serializer):
    document = serializers.CharField(required=False)
    reference = serializers.CharField(required=False)
    issued_by = serializers.CharField(required=False)
    issued_on = serializers.CharField(required=False)
    procedure = serializers.CharField(required=False)
    finality = serializers.DictField(
        required=False,
        help_text='Whether the decision is final (ZJ 11): `{"state": "pending", '
        '"review_period_ends"}` does not count until it is `{"state": "final", "final_on"}`',
    )


class Compensation(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(EventKind.values, help_text="reversal, correction, repair")
    points = serializers.IntegerField()


class AppealRef(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(AppealStatus.values)


class MyEvent(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(EventKind.values)
    points = serializers.IntegerField()
    status = serializers.ChoiceField(
        EventStatus.values, help_text="As of now: expired once `expires_at` has passed"
    )
    rule = RuleRef()
    department = DepartmentRef()
    evidence = EvidenceOut()
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="The end of a continuing act; periods count from it"
    )
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="End of retention (5 years from the end of the act, CRR 16): it stops "
        "counting and its details are deleted",
    )
    counts_for_departments = serializers.BooleanField(
        help_text="Whether departments' score reads and eligibility answers count it now"
    )
    counts_for_departments_from = serializers.DateTimeField(
        allow_null=True,
        help_text="A deduction counts for departments from this instant: its notice delivered "
        "and the notice period passed (CRR 15), its decision final (ZJ 11); null while "
        "pending",
    )
    not_for_departments = serializers.CharField(
        allow_null=True,
        help_text="Why departments are not told of it now: `pending` (not final, ZJ 11), "
        "`notice_period` (told, the period before disclosure runs, CRR 15), `not_told`, "
        "`not_published`, `publication_ended` (2025 No. 22), `not_retained`; null when they are",
    )
    published_until = serializers.DateField(
        allow_null=True,
        help_text="A deduction's last day of publication to departments (Asia/Shanghai), "
        "counted from the end of the act (2025 No. 22)",
    )
    compensates = serializers.IntegerField(allow_null=True)
    compensations = Compensation(many=True)
    open_appeal = serializers.IntegerField(allow_null=True)
    appeals = AppealRef(many=True)


class Page(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class CursorPage(Page):
    before = serializers.IntegerField(
        allow_null=True, help_text="The cursor this page started after, if any"
    )
    next = serializers.IntegerField(
        allow_null=True, help_text="Pass as `before` for the following page; null on the last"
    )


class MyEvents(CursorPage):
    results = MyEvent(many=True)


class ActionRef(serializers.Serializer):
    code = serializers.IntegerField()
    label = serializers.CharField()


class PurposeRef(serializers.Serializer):
    code = serializers.CharField()
    title = Bilingual()
    description = Bilingual()


class Access(serializers.Serializer):
    time = serializers.DateTimeField()
    what = ActionRef()
    refused = serializers.BooleanField()
    role = serializers.ChoiceField(ActorKind.values, help_text="Who read: by role, not by name")
    department = DepartmentRef(allow_null=True)
    purpose = PurposeRef(allow_null=True)
    legal_basis = serializers.CharField()


class MyAccesses(CursorPage):
    results = Access(many=True)


class AppealRequest(serializers.Serializer):
    event = serializers.IntegerField()
    statement = serializers.CharField(max_length=5000)


class AppealCreated(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(AppealStatus.values)
    decision_due = serializers.DateField()
    decision_due_computed = serializers.BooleanField(
        help_text="The due date counts holidays computed from the national rules: the "
        "State Council has not yet published the year's schedule"
    )


class DecisionRequest(serializers.Serializer):
    outcome = serializers.ChoiceField(AppealOutcome.values)
    reason = serializers.CharField(max_length=5000, help_text="Told to the resident (ZJ 30)")
    points = serializers.IntegerField(
        required=False,
        max_value=-1,
        help_text="Only with `corrected`: the new, smaller deduction (original + 1 to -1)",
    )


class ExtensionRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)
    working_days = serializers.IntegerField(
        required=False, min_value=6, max_value=20, help_text="New total from filing (ZJ 31)"
    )


class ReviewRequest(serializers.Serializer):
    statement = serializers.CharField(max_length=5000)


class Decision(serializers.Serializer):
    outcome = serializers.ChoiceField(AppealOutcome.values)
    reason = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class AppealEvent(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    rule_version = serializers.IntegerField()
    title = Bilingual()
    points = serializers.IntegerField()
    department = serializers.CharField()
    status = serializers.ChoiceField(EventStatus.values)
    occurred_at = serializers.DateTimeField()
    evidence = EvidenceOut()


class AppealOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(AppealStatus.values)
    event = AppealEvent()
    statement = serializers.CharField()
    filed_at = serializers.DateTimeField()
    decision_due = serializers.DateField()
    decision_due_computed = serializers.BooleanField(
        help_text="The due date counts holidays computed from the national rules: the "
        "State Council has not yet published the year's schedule"
    )
    extended_at = serializers.DateTimeField(allow_null=True)
    extension_reason = serializers.CharField()
    assigned = serializers.BooleanField()
    decision = Decision(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    review_requested_at = serializers.DateTimeField(allow_null=True)
    review_statement = serializers.CharField()
    review = Decision(allow_null=True)
    reviewer = serializers.CharField(
        required=False, allow_null=True, help_text="Staff only: the assigned reviewer"
    )


class AppealPage(Page):
    results = AppealOut(many=True)
