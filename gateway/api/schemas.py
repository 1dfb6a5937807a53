"""Serializers that document request and response shapes in the OpenAPI schema.

The submission path validates by hand (see gateway.validation) for speed; these
classes describe the same contract for integrators.
"""

from rest_framework import serializers


class Error(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()


class Problem(serializers.Serializer):
    record = serializers.IntegerField(required=False)
    path = serializers.CharField(help_text="RFC 6901 JSON pointer from the body's root")
    message = serializers.CharField()


class InvalidError(Error):
    problems = Problem(many=True, required=False)


class Violation(serializers.Serializer):
    record = serializers.IntegerField(required=False)
    path = serializers.CharField()
    category = serializers.CharField()


class ProhibitedError(Error):
    violations = Violation(many=True)
    policy_version = serializers.IntegerField()


class Evidence(serializers.Serializer):
    document = serializers.CharField(required=False, help_text="Decision number (deductions)")
    issued_by = serializers.CharField(required=False)
    issued_on = serializers.DateField(required=False)
    procedure = serializers.ChoiceField(["general", "judicial", "summary"], required=False)
    reference = serializers.CharField(required=False, help_text="Source record (rewards)")


class RecordIn(serializers.Serializer):
    citizen_id = serializers.CharField(min_length=18, max_length=18)
    rule = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    evidence = Evidence()
    data = serializers.DictField(required=False)


class SubmissionRequest(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=128)
    records = RecordIn(many=True, min_length=1, max_length=1000)


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    record = serializers.IntegerField()
    rule = serializers.CharField()
    rule_version = serializers.IntegerField()
    points = serializers.IntegerField()
    status = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)


class Receipt(serializers.Serializer):
    index = serializers.IntegerField()
    leaf_hash = serializers.CharField()


class SubmissionAccepted(serializers.Serializer):
    submission_id = serializers.UUIDField()
    accepted = serializers.IntegerField()
    events = EventOut(many=True)
    receipt = Receipt()


class ScoreQuery(serializers.Serializer):
    citizen_id = serializers.CharField()
    purpose = serializers.CharField()


class ScoreDisclosure(serializers.Serializer):
    score = serializers.IntegerField(required=False)
    as_of = serializers.DateTimeField()
    eligibility = serializers.DictField(child=serializers.BooleanField())


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
    kind = serializers.ChoiceField(["reward", "deduction"])
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
    discloses = serializers.CharField()
    eligibility = ThresholdOut(many=True)
    departments = serializers.ListField(child=serializers.CharField())
