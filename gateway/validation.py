"""Validation of a submission body after screening: shape, identity numbers, rules, evidence.

Hand-written rather than serializer-based: a 1,000-record batch must validate in
a few milliseconds. Every problem carries an RFC 6901 pointer from the body's root.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# The span of dates and the calendar-date parser are shared with the admin and the
# commands (compliance.dates); re-exported here for the department API's callers.
from compliance.dates import EARLIEST_YEAR, LATEST_YEAR, OutOfRange, parse_calendar_date
from compliance.law import DISPLAY_ZONE
from compliance.models import Rule
from gateway.errors import InvalidRequest, PayloadTooLarge, RuleNotAuthorized, problem
from gateway.identity import InvalidIdentityNumber, normalize_identity_number

# RFC 3339 section 5.6 date-time: full-date "T" full-time, offset required ("Z" or
# +hh:mm). ASCII digits only (Python's \d would take any script's digits).
_RFC3339_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
RULE_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
MAX_CONSENT_CHARS = 200
RECORD_FIELDS = frozenset(
    {"citizen_id", "rule", "occurred_at", "ended_at", "evidence", "data", "consent_reference"}
)
BODY_FIELDS = frozenset({"idempotency_key", "records"})
CLOCK_SKEW = dt.timedelta(minutes=5)


class Procedure:
    GENERAL = "general"  # 一般程序 administrative penalty decision
    JUDICIAL = "judicial"  # a court judgment or ruling
    SUMMARY = "summary"  # 简易程序, e.g. an on-the-spot ticket: never counted (ZJ 11, SH 9)
    ALL = (GENERAL, JUDICIAL, SUMMARY)


class Why:
    """Reasons a record is refused, each naming the rule of law it applies."""

    UNKNOWN_FIELD = _("unknown field")
    REQUIRED = _("this field is required")
    NOT_STRING = _("must be a string")
    NOT_OBJECT = _("must be a JSON object")
    BAD_IDEMPOTENCY_KEY = _(
        "must be 1 to 128 characters of letters, digits and . _ : - starting with a letter or digit"
    )
    NO_RECORDS = _("a batch holds 1 to %(limit)d records")
    BAD_DATETIME = _(
        "must be an ISO 8601 date-time with a UTC offset, e.g. 2026-11-20T08:30:00+08:00"
    )
    FUTURE_ACT = _("the act cannot be in the future")
    BAD_DATE = _("must be a date in the form YYYY-MM-DD")
    OUT_OF_RANGE = _("must fall within the years %(first)d to %(last)d")
    UNKNOWN_RULE = _("no published rule has this code (SH 9-11: only catalogued items count)")
    RULE_NOT_IN_FORCE = _(
        "no version of this rule was in force on the day of the act (SH 10: rules apply "
        "only from their published effective date)"
    )
    SUMMARY_PROCEDURE = _(
        "a summary-procedure penalty is never credit information (ZJ 11; SH 9 counts only "
        "general-procedure penalties)"
    )
    BAD_PROCEDURE = _("must be one of: general, judicial, summary")
    DOCUMENT_REQUIRED = _(
        "a deduction must rest on a legally effective document: a court judgment or an "
        "administrative penalty decision (SH 11; State Council 2020 No. 49)"
    )
    DOCUMENT_BEFORE_ACT = _(
        "the decision is dated before the act it decides (SH 11: a deduction rests on a "
        "legally effective decision about that act)"
    )
    DOCUMENT_IN_FUTURE = _(
        "the decision is dated in the future, so it is not yet legally effective (SH 11)"
    )
    DOCUMENT_BEFORE_RULE = _(
        "the decision is dated before the rule took effect (SH 10: no retroactive rules)"
    )
    SOURCE_REQUIRED = _(
        "a reward must name its source record in evidence.reference (or evidence.document)"
    )
    ALREADY_EXPIRED = _(
        "the act is older than the rule's %(years)d-year period: negative information is no "
        "longer served (SH 35, ZJ 16, CRR 16)"
    )
    BAD_CONSENT = _(
        "must name the written consent in 1 to 200 characters (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2)"
    )
    FUTURE_END = _("the act cannot end in the future; send ended_at once it has ended")
    END_BEFORE_ACT = _(
        "the act cannot end before it began; periods count from the end of the act (SH 35, CRR 16)"
    )
    NOT_AUTHORIZED = _("the department is not authorised to apply this rule")
    FINALITY_SHAPE = _(
        'must be {"state": "final", "final_on": date} or {"state": "pending", '
        '"review_period_ends": date} (ZJ 11)'
    )
    FINALITY_STATE = _("must be final or pending (ZJ 11)")
    FINALITY_GROUND = _("must be one of: periods_passed, upheld_on_review, upheld_on_appeal")
    FINAL_BEFORE_DECISION = _("a decision cannot become final before it was issued (ZJ 11)")
    FINAL_IN_FUTURE = _(
        "a decision that becomes final only later is pending: send state pending with "
        "review_period_ends (ZJ 11)"
    )
    PERIOD_BEFORE_DECISION = _("the review period cannot end before the decision was issued")
    PERIOD_PASSED = _(
        "the review and lawsuit periods have passed, so the decision is final: send state "
        "final with final_on (ZJ 11)"
    )


class Finality:
    """``evidence.finality`` of a deduction (ZJ 11): whether its decision is final yet.

    ``{"state": "final", "final_on": "YYYY-MM-DD", "ground"?: ...}``: final since that
    day (not before the decision, not in the future). ``{"state": "pending",
    "review_period_ends": "YYYY-MM-DD"}``: still open to administrative review, lawsuit
    or appeal until that day (inclusive, in the future): the record is kept but does not
    count, and is not disclosed, until it becomes final. Absent: the department asserts
    the decision is final (legally effective) as it is sent.
    """

    FINAL = "final"
    PENDING = "pending"
    GROUNDS = ("periods_passed", "upheld_on_review", "upheld_on_appeal")
    FIELDS = frozenset({"state", "final_on", "review_period_ends", "ground"})


def is_pending(evidence: Any) -> bool:
    finality = evidence.get("finality") if isinstance(evidence, dict) else None
    return isinstance(finality, dict) and finality.get("state") == Finality.PENDING


@dataclass(frozen=True, slots=True)
class ValidRecord:
    index: int
    identity_number: str
    rule: Rule
    occurred_at: dt.datetime
    evidence: dict[str, Any]
    data: dict[str, Any]
    # The end of a continuing act; the periods count from it (SH 35, CRR 16).
    ended_at: dt.datetime | None = None
    # The person's written consent to consent-gated data (CRR 14 ¶2).
    consent_reference: str | None = None

    @property
    def period_start(self) -> dt.datetime:
        return self.ended_at or self.occurred_at


def validate_body_shape(document: Any, *, max_records: int) -> tuple[str, list[Any]]:
    """Check the envelope; return (idempotency_key, records)."""
    if not isinstance(document, dict):
        raise InvalidRequest([problem("", Why.NOT_OBJECT)])
    problems = [
        problem(f"/{_token(k)}", Why.UNKNOWN_FIELD) for k in document if k not in BODY_FIELDS
    ]
    key = document.get("idempotency_key")
    if key is None:
        problems.append(problem("/idempotency_key", Why.REQUIRED))
    elif not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        problems.append(problem("/idempotency_key", Why.BAD_IDEMPOTENCY_KEY))
    records = document.get("records")
    if records is None:
        problems.append(problem("/records", Why.REQUIRED))
    elif not isinstance(records, list):
        problems.append(problem("/records", _("must be an array")))
    elif len(records) > max_records:
        raise PayloadTooLarge(Why.NO_RECORDS % {"limit": max_records}, limit=max_records)
    elif not records:
        problems.append(problem("/records", Why.NO_RECORDS % {"limit": max_records}))
    if problems:
        raise InvalidRequest(problems)
    return key, records


def validate_records(
    records: list[Any],
    *,
    published_codes: set[str],
    applicable: dict[str, list[Rule]],
    now: dt.datetime,
) -> list[ValidRecord]:
    """Validate every record, collecting every problem; then check the department's authority."""
    problems: list[dict[str, Any]] = []
    unauthorized: list[dict[str, Any]] = []
    valid: list[ValidRecord] = []
    today = now.astimezone(DISPLAY_ZONE).date()
    for index, record in enumerate(records):
        base = f"/records/{index}"
        if not isinstance(record, dict):
            problems.append(problem(base, Why.NOT_OBJECT, index))
            continue
        before = len(problems)
        for name in record:
            if name not in RECORD_FIELDS:
                problems.append(problem(f"{base}/{_token(name)}", Why.UNKNOWN_FIELD, index))

        identity_number = None
        raw_id = record.get("citizen_id")
        if raw_id is None:
            problems.append(problem(f"{base}/citizen_id", Why.REQUIRED, index))
        else:
            try:
                identity_number = normalize_identity_number(raw_id, today=today)
            except InvalidIdentityNumber as exc:
                problems.append(problem(f"{base}/citizen_id", exc, index))

        occurred_at = _parse_datetime(
            record.get("occurred_at"), f"{base}/occurred_at", index, problems
        )
        if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
            problems.append(problem(f"{base}/occurred_at", Why.FUTURE_ACT, index))
            occurred_at = None
        consent = record.get("consent_reference")
        if consent is not None and not (
            isinstance(consent, str) and 0 < len(consent.strip()) <= MAX_CONSENT_CHARS
        ):
            problems.append(problem(f"{base}/consent_reference", Why.BAD_CONSENT, index))
            consent = None
        ended_at = None
        if record.get("ended_at") is not None:
            ended_at = _parse_datetime(record["ended_at"], f"{base}/ended_at", index, problems)
            if ended_at is not None and ended_at > now + CLOCK_SKEW:
                problems.append(problem(f"{base}/ended_at", Why.FUTURE_END, index))
                ended_at = None
            elif ended_at is not None and occurred_at is not None and ended_at < occurred_at:
                problems.append(problem(f"{base}/ended_at", Why.END_BEFORE_ACT, index))
                ended_at = None

        evidence = record.get("evidence")
        if evidence is None:
            evidence = {}
        elif not isinstance(evidence, dict):
            problems.append(problem(f"{base}/evidence", Why.NOT_OBJECT, index))
            evidence = None
        data = record.get("data", {})
        if data is None:
            data = {}
        elif not isinstance(data, dict):
            problems.append(problem(f"{base}/data", Why.NOT_OBJECT, index))

        rule = None
        code = record.get("rule")
        if code is None:
            problems.append(problem(f"{base}/rule", Why.REQUIRED, index))
        elif (
            not isinstance(code, str)
            or not RULE_CODE.fullmatch(code)
            or code not in published_codes
        ):
            problems.append(problem(f"{base}/rule", Why.UNKNOWN_RULE, index))
        elif code not in applicable:
            unauthorized.append(problem(f"{base}/rule", Why.NOT_AUTHORIZED, index))
        elif occurred_at is not None:
            # Instants, not days: a rule published at 15:00 does not reach an act at 08:00.
            rule = next((r for r in reversed(applicable[code]) if r.in_force_at(occurred_at)), None)
            if rule is None:
                problems.append(problem(f"{base}/rule", Why.RULE_NOT_IN_FORCE, index))

        if rule is not None and evidence is not None and occurred_at is not None:
            _check_evidence(rule, evidence, occurred_at, today, base, index, problems)
            served_from = ended_at or occurred_at
            if rule.is_deduction and add_years(served_from, rule.retention_years) <= now:
                problems.append(
                    problem(
                        f"{base}/occurred_at",
                        Why.ALREADY_EXPIRED % {"years": rule.retention_years},
                        index,
                    )
                )

        if len(problems) == before and rule is not None and identity_number is not None:
            valid.append(
                ValidRecord(
                    index,
                    identity_number,
                    rule,
                    occurred_at,
                    evidence or {},
                    data or {},
                    ended_at,
                    consent.strip() if consent else None,
                )
            )
    if problems:
        raise InvalidRequest(problems)
    if unauthorized:
        raise RuleNotAuthorized(Why.NOT_AUTHORIZED, problems=unauthorized)
    return valid


def _check_evidence(rule, evidence, occurred_at, today, base, index, problems) -> None:
    """The legally effective document behind a deduction, or the source of a reward.

    Further members (attachments, document hashes, remarks) are allowed: they were
    screened with the rest of the body and are stored with the event.
    """
    path = f"{base}/evidence"
    for name in ("document", "issued_by", "reference"):
        value = evidence.get(name)
        if value is None or (rule.is_deduction and name != "reference" and _blank(value)):
            continue  # a deduction's missing or blank document is refused below (SH 11)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            problems.append(problem(f"{path}/{name}", Why.NOT_STRING, index))
    issued_on = None
    if "issued_on" in evidence:
        issued_on = _parse_date(evidence["issued_on"], f"{path}/issued_on", index, problems)
    if not rule.is_deduction:
        if not any(
            isinstance(evidence.get(n), str) and evidence[n].strip()
            for n in ("reference", "document")
        ):
            problems.append(problem(f"{path}/reference", Why.SOURCE_REQUIRED, index))
        return
    if not evidence:
        problems.append(problem(path, Why.DOCUMENT_REQUIRED, index))
        return
    for name in ("document", "issued_by", "procedure", "issued_on"):
        value = evidence.get(name)
        if value is None or (name in ("document", "issued_by") and _blank(value)):
            problems.append(problem(f"{path}/{name}", Why.DOCUMENT_REQUIRED, index))
    procedure = evidence.get("procedure")
    if procedure is not None:
        if procedure not in Procedure.ALL:
            problems.append(problem(f"{path}/procedure", Why.BAD_PROCEDURE, index))
        elif procedure == Procedure.SUMMARY:
            problems.append(problem(f"{path}/procedure", Why.SUMMARY_PROCEDURE, index))
    if "finality" in evidence:
        _check_finality(evidence["finality"], issued_on, today, f"{path}/finality", index, problems)
    if issued_on is None:
        return
    if issued_on < occurred_at.astimezone(DISPLAY_ZONE).date():
        problems.append(problem(f"{path}/issued_on", Why.DOCUMENT_BEFORE_ACT, index))
    elif issued_on > today:
        problems.append(problem(f"{path}/issued_on", Why.DOCUMENT_IN_FUTURE, index))
    elif issued_on < rule.effective_from:
        problems.append(problem(f"{path}/issued_on", Why.DOCUMENT_BEFORE_RULE, index))


def _check_finality(finality, issued_on, today, path, index, problems) -> None:
    if not isinstance(finality, dict):
        problems.append(problem(path, Why.FINALITY_SHAPE, index))
        return
    for name in finality:
        if name not in Finality.FIELDS:
            problems.append(problem(f"{path}/{_token(name)}", Why.UNKNOWN_FIELD, index))
    state = finality.get("state")
    if state not in (Finality.FINAL, Finality.PENDING):
        problems.append(problem(f"{path}/state", Why.FINALITY_STATE, index))
        return
    ground = finality.get("ground")
    if ground is not None and ground not in Finality.GROUNDS:
        problems.append(problem(f"{path}/ground", Why.FINALITY_GROUND, index))
    name = "final_on" if state == Finality.FINAL else "review_period_ends"
    if finality.get(name) is None:
        problems.append(problem(f"{path}/{name}", Why.FINALITY_SHAPE, index))
        return
    day = _parse_date(finality[name], f"{path}/{name}", index, problems)
    if day is None:
        return
    if issued_on is not None and day < issued_on:
        reason = (
            Why.FINAL_BEFORE_DECISION if state == Finality.FINAL else Why.PERIOD_BEFORE_DECISION
        )
        problems.append(problem(f"{path}/{name}", reason, index))
    elif state == Finality.FINAL and day > today:
        problems.append(problem(f"{path}/{name}", Why.FINAL_IN_FUTURE, index))
    elif state == Finality.PENDING and day < today:
        problems.append(problem(f"{path}/{name}", Why.PERIOD_PASSED, index))


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def parse_instant(text: str) -> dt.datetime:
    """An RFC 3339 date-time with its offset, within EARLIEST_YEAR..LATEST_YEAR.

    Raises ValueError (OutOfRange for a well-formed value outside the span). The result
    is aware; fractions beyond microseconds are cut, as the databases store no more.
    """
    match = _RFC3339_INSTANT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("not an RFC 3339 date-time")
    day = parse_calendar_date(match["date"])
    offset = match["offset"]
    if offset in ("Z", "z"):
        zone = dt.UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("offset out of range")
        sign = -1 if offset[0] == "-" else 1
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    # Raises ValueError for hour 24, minute 60 or a leap second (which no database keeps).
    moment = dt.datetime.combine(
        day,
        dt.time(int(match["hour"]), int(match["minute"]), int(match["second"]), int(fraction)),
        tzinfo=zone,
    )
    # The span holds in UTC too, so both databases store the same instant.
    if not EARLIEST_YEAR <= moment.astimezone(dt.UTC).year <= LATEST_YEAR:
        raise OutOfRange("outside the accepted years")
    return moment


def _range_problem():
    return Why.OUT_OF_RANGE % {"first": EARLIEST_YEAR, "last": LATEST_YEAR}


def _parse_datetime(value, path, index, problems) -> dt.datetime | None:
    if value is None:
        problems.append(problem(path, Why.REQUIRED, index))
        return None
    try:
        return parse_instant(value)
    except OutOfRange:
        problems.append(problem(path, _range_problem(), index))
    except ValueError:
        problems.append(problem(path, Why.BAD_DATETIME, index))
    return None


def _parse_date(value, path, index, problems) -> dt.date | None:
    try:
        return parse_calendar_date(value)
    except OutOfRange:
        problems.append(problem(path, _range_problem(), index))
    except ValueError:
        problems.append(problem(path, Why.BAD_DATE, index))
    return None


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """The same wall-clock time ``years`` later on the Asia/Shanghai calendar.

    Counted in Shanghai whatever offset the act was sent with, so the same instant
    always ends on the same day; a period from 29 February ends on 28 February when
    the year has none (Civil Code Art. 202: the last day of the month).
    """
    local = moment.astimezone(DISPLAY_ZONE)
    try:
        return local.replace(year=local.year + years)
    except ValueError:  # 29 February
        return local.replace(year=local.year + years, day=28)


def _token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
