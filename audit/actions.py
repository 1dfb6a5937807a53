"""Audit action codes: named integer constants grouped by area. Never renumber."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.IntegerChoices):
    # 1xx: department submissions
    SUBMISSION_ACCEPTED = 100, _("submission accepted")
    SUBMISSION_REFUSED_PROHIBITED = 101, _("submission refused: prohibited data")
    SUBMISSION_REFUSED_INVALID = 102, _("submission refused: invalid")
    SUBMISSION_REFUSED_RULE = 103, _("submission refused: rule not authorised")
    SUBMISSION_REFUSED_CONFLICT = 104, _("submission refused: idempotency conflict")
    SUBMISSION_REFUSED_SIGNATURE = 110, _("submission refused: signature missing or invalid")

    # 2xx: reads of a resident's data
    SCORE_READ_BY_DEPARTMENT = 200, _("score read by a department")
    SCORE_READ_REFUSED = 201, _("score read refused")
    SCORE_READ_BY_CITIZEN = 202, _("score read by the resident")
    EVENTS_READ_BY_CITIZEN = 203, _("events read by the resident")
    ACCESSES_READ_BY_CITIZEN = 204, _("access log read by the resident")
    DATA_READ_BY_REVIEWER = 205, _("data read by a reviewer")
    DATA_READ_BY_ADMIN = 206, _("data shown in the admin")
    REPORT_READ_BY_CITIZEN = 207, _("report printed by the resident")
    OWN_RECORDS_READ_BY_CITIZEN = 208, _("appeals, repairs or notices read by the resident")

    # 3xx: appeals (objections)
    APPEAL_FILED = 300, _("appeal filed")
    APPEAL_DECIDED = 301, _("appeal decided")
    APPEAL_EXTENDED = 302, _("appeal deadline extended")
    APPEAL_ESCALATED = 303, _("appeal escalated to the regulator")
    APPEAL_REVIEW_REQUESTED = 304, _("regulator review requested")
    APPEAL_NOTIFIED = 305, _("appellant notified")

    # 4xx: ledger changes other than submissions
    EVENT_EXPIRED = 400, _("event expired")
    EVENT_REVERSED = 401, _("event reversed")
    EVENT_CORRECTED = 402, _("event corrected")
    NOTICE_DELIVERED = 403, _("notice delivered")
    REPAIR_APPLIED = 404, _("credit repair applied for")
    REPAIR_DECIDED = 405, _("credit repair decided")
    SCORE_RECOMPUTED = 406, _("score recomputed")
    LEDGER_COMMITTED = 407, _("ledger state committed to the log")
    DEADLINE_RECOMPUTED = 410, _("deadline recomputed after a calendar change")
    EVENT_REVOKED = 411, _("event's decision revoked by its department")
    SUBMISSION_REFUSED_CONSENT = 412, _("submission refused: written consent not named")
    ELIGIBILITY_REVIEW_REQUESTED = 421, _("review of an eligibility answer requested")
    ELIGIBILITY_REVIEW_DECIDED = 422, _("review of an eligibility answer decided")
    ELIGIBILITY_REVIEW_ESCALATED = 423, _("review of an eligibility answer escalated")
    EVENT_FINAL = 420, _("event's decision became final")

    # 5xx: catalogue, policy and parties
    RULE_CHANGED = 500, _("rule changed")
    RULE_TRANSITIONED = 501, _("rule lifecycle transition")
    PURPOSE_CHANGED = 502, _("purpose changed")
    POLICY_CHANGED = 503, _("screening policy changed")
    DEPARTMENT_CHANGED = 504, _("department changed")
    KEY_CREATED = 505, _("department key created")
    KEY_REVOKED = 506, _("department key revoked")
    THRESHOLD_CHANGED = 507, _("eligibility threshold changed")
    CALENDAR_CHANGED = 508, _("working-day calendar changed")
    ACCOUNT_CREATED = 509, _("account created")
    IDENTITY_KEY_ROTATED = 510, _("identity numbers re-encrypted under a new key")
    SIGNING_KEY_ADDED = 530, _("department signing key added")
    SIGNING_KEY_REVOKED = 531, _("department signing key revoked")
    SIGNATURE_POLICY_CHANGED = 532, _("department signature policy changed")

    # 6xx: administration of the log itself
    ADMIN_LOGIN = 600, _("admin login")
    ADMIN_LOGIN_FAILED = 601, _("admin login failed")
    AUDIT_EXPORTED = 602, _("audit log exported")
    CHECKPOINT_CREATED = 603, _("checkpoint created")
    AUDIT_VERIFIED = 604, _("audit log verified")

    # 63x: witnesses of the log


class ActorKind(models.TextChoices):
    DEPARTMENT = "department", _("department")
    CITIZEN = "citizen", _("resident")
    REVIEWER = "reviewer", _("reviewer")
    REGULATOR = "regulator", _("regulator")
    ADMIN = "admin", _("administrator")
    SYSTEM = "system", _("system")
    ANONYMOUS = "anonymous", _("anonymous")


READ_ACTIONS = frozenset(
    {
        AuditAction.SCORE_READ_BY_DEPARTMENT,
        AuditAction.SCORE_READ_BY_CITIZEN,
        AuditAction.EVENTS_READ_BY_CITIZEN,
        AuditAction.ACCESSES_READ_BY_CITIZEN,
        AuditAction.DATA_READ_BY_REVIEWER,
        AuditAction.DATA_READ_BY_ADMIN,
        AuditAction.REPORT_READ_BY_CITIZEN,
        AuditAction.OWN_RECORDS_READ_BY_CITIZEN,
    }
)
