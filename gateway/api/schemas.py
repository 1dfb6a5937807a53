"""Serializers that document request and response shapes in the OpenAPI schema.

The submission path validates by hand (see gateway.validation) for speed; these
classes describe the same contract for integrators.
"""

from rest_framework import serializers

from gateway.validation import IDEMPOTENCY_KEY, RULE_CODE

IDENTITY_NUMBER = r"^[0-9]{17}[0-9Xx]$"


class Error(serializers.Serializer):
    """The one error shape; some errors add details beside the two fields."""

    error = serializers.CharField(help_text="A stable machine-readable code, e.g. `not_found`")
    message = serializers.CharField(help_text="Human text in the request's language")


class Problem(serializers.Serializer):
    record = serializers.IntegerField(required=False)
    path = serializers.CharField(help_text="RFC 6901 JSON pointer from the body's root")
    message = serializers.CharField()


class InvalidError(Error):
    problems = Problem(many=True, required=False, help_text="Each problem with the request")


class Violation(serializers.Serializer):
    record = serializers.IntegerField(required=False)
    path = serializers.CharField()
    category = serializers.CharField()
    via = serializers.CharField(
        required=False,
        help_text="For data carried inside a string: the formats unwrapped and the pointer "
        "inside, e.g. 'base64 › json › /blood_type'",
    )


class ProhibitedError(Error):
    violations = Violation(many=True)
    policy_version = serializers.IntegerField()


class Finality(serializers.Serializer):
    """Whether a deduction's decision is final (ZJ 11); absent: final as sent."""

    state = serializers.ChoiceField(
        ["final", "pending"],
        help_text="`pending`: still open to administrative review, lawsuit or appeal; kept but "
        "not counted nor disclosed until final",
    )
    final_on = serializers.DateField(
        required=False,
        help_text="With `final`: the day it became final (not before `issued_on`, not in the "
        "future)",
    )
    review_period_ends = serializers.DateField(
        required=False,
        help_text="With `pending`: the last day of the review and lawsuit (or appeal) periods, "
        "today or later; final the next day unless the department reports otherwise",
    )
    ground = serializers.ChoiceField(
        ["periods_passed", "upheld_on_review", "upheld_on_appeal"], required=False
    )


class Evidence(serializers.Serializer):
    document = serializers.CharField(required=False, help_text="Decision number (deductions)")
    issued_by = serializers.CharField(required=False)
    issued_on = serializers.DateField(
        required=False, help_text="Not before the act, not in the future (deductions)"
    )
    procedure = serializers.ChoiceField(
        ["general", "judicial"],
        required=False,
        help_text="Deductions; `summary` (an on-the-spot ticket) is refused with 400 (ZJ 11)",
    )
    reference = serializers.CharField(required=False, help_text="Source record (rewards)")
    finality = Finality(required=False)


class RecordIn(serializers.Serializer):
    citizen_id = serializers.RegexField(
        IDENTITY_NUMBER, help_text="18-character identity number with its check character"
    )
    rule = serializers.RegexField(RULE_CODE.pattern, help_text="A published rule's code")
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset")
    ended_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The end of a continuing act, if later than occurred_at; the 5-year period "
        "counts from it (SH 35, CRR 16)",
    )
    evidence = Evidence()
    consent_reference = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The person's written consent, required for income, deposits, securities, "
        "commercial insurance, real estate or tax amounts (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2)",
    )
    data = serializers.DictField(
        required=False, help_text="Details kept with the department's record; never screened out"
    )


class SubmissionRequest(serializers.Serializer):
    idempotency_key = serializers.RegexField(IDEMPOTENCY_KEY.pattern)
    records = RecordIn(many=True, min_length=1, max_length=1000)


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    record = serializers.IntegerField()
    rule = serializers.CharField()
    rule_version = serializers.IntegerField()
    points = serializers.IntegerField()
    status = serializers.CharField()
    finality = serializers.ChoiceField(
        ["final", "pending"], help_text="`pending`: does not count until final (ZJ 11)"
    )
    occurred_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)


class Receipt(serializers.Serializer):
    """The log's signed promise to include the submission's entry (see audit.receipts)."""

    leaf_hash = serializers.CharField(help_text="SHA-256 leaf hash of the audit entry, hex")
    time = serializers.DateTimeField()
    origin = serializers.CharField(help_text="the audit log's origin line")
    max_merge_delay = serializers.IntegerField(help_text="seconds within which it is sequenced")
    note = serializers.CharField(help_text="the receipt as a C2SP signed note")


class SubmissionAccepted(serializers.Serializer):
    submission_id = serializers.UUIDField()
    accepted = serializers.IntegerField()
    events = EventOut(many=True)
    receipt = Receipt()


class ScoreQuery(serializers.Serializer):
    citizen_id = serializers.RegexField(IDENTITY_NUMBER)
    purpose = serializers.CharField(help_text="A purpose granted to the department")


class ScoreDisclosure(serializers.Serializer):
    score = serializers.IntegerField(
        required=False, help_text="Only for a purpose that discloses the score"
    )
    as_of = serializers.DateTimeField()
    eligibility = serializers.DictField(
        child=serializers.BooleanField(), help_text="Threshold code: eligible"
    )


class PurposeError(Error):
    purpose = serializers.CharField(required=False, help_text="The purpose asked for")


class Bilingual(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()


class LegalBasis(serializers.Serializer):
    law = serializers.CharField()
    article = serializers.CharField()


class RuleOut(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    title = Bilingual()
    points = serializers.IntegerField()
    kind = serializers.ChoiceField(["reward", "deduction"], help_text="By the rule's points")
    severity = serializers.CharField()
    legal_basis = LegalBasis()
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    in_force = serializers.BooleanField()
    retention_years = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    departments = serializers.ListField(child=serializers.CharField())


class ThresholdOut(serializers.Serializer):
    code = serializers.CharField()
    title = Bilingual()
    minimum_score = serializers.IntegerField()


class PurposeOut(serializers.Serializer):
    code = serializers.CharField()
    title = Bilingual()
    description = Bilingual()
    legal_basis = LegalBasis()
    discloses = serializers.ChoiceField(["score", "eligibility"])
    eligibility = ThresholdOut(many=True)
    departments = serializers.ListField(child=serializers.CharField())
