"""What may be collected and on what grounds: departments, rules, purposes, policy."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from compliance import law
from compliance.errors import ComplianceError
from compliance.history import history

CODE_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$",
    _("Use lower-case letters, digits, underscores and dots, e.g. traffic.failure_to_yield."),
)


def validate_law_name(value: str) -> None:
    if not law.is_law_name(value):
        raise ValidationError(
            _("Name the law or regulation, e.g. 《中华人民共和国道路交通安全法》 (SH 11).")
        )


def validate_article(value: str) -> None:
    if not law.is_article_citation(value):
        raise ValidationError(
            _("Cite the article, e.g. 第四十七条 or Art. 47: a legal basis names one (SH 11).")
        )


class BilingualTitleMixin:
    """Picks the Chinese or English title for the active language."""

    def localized(self, field: str) -> str:
        language = (get_language() or settings.LANGUAGE_CODE).lower()
        if language.startswith("en"):
            return getattr(self, f"{field}_en") or getattr(self, f"{field}_zh")
        return getattr(self, f"{field}_zh") or getattr(self, f"{field}_en")

    @property
    def title(self) -> str:
        return self.localized("title")


class SignaturePolicy(models.TextChoices):
    OPTIONAL = "optional", _("signatures optional")
    REQUIRED = "required", _("signatures required")
    DEDUCTIONS = "deductions", _("signatures required for deductions")


class Department(BilingualTitleMixin, models.Model):
    """A municipal body that submits records or reads scores."""

    code = models.CharField(_("code"), max_length=64, unique=True, validators=[CODE_VALIDATOR])
    title_zh = models.CharField(_("name (Chinese)"), max_length=200)
    title_en = models.CharField(_("name (English)"), max_length=200)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="department", editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    signature_policy = models.CharField(
        _("signature policy"),
        max_length=16,
        choices=SignaturePolicy.choices,
        default=SignaturePolicy.OPTIONAL,
    )
    history = history()

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.code} ({self.title})"


class RuleSeverity(models.TextChoices):
    MINOR = "minor", _("minor")
    ORDINARY = "ordinary", _("ordinary")
    SERIOUS = "serious", _("serious dishonesty")


class RuleStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    COMMENT = "comment", _("open for public comment")
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")


RULE_WRITE_OUTSIDE_LIFECYCLE = _(
    "A rule changes only through the catalogue's lifecycle (compliance.lifecycle): draft, "
    "public comment, publication, new version, withdrawal (SH 10, ZJ 12)."
)


RETENTION_OUT_OF_LAW = _(
    "Negative information is kept at most 5 years from the end of the act, and at least "
    "1 (SH 35, ZJ 16, CRR 16)."
)


PUBLICATION_OUT_OF_TIER = _(
    "A %(severity)s entry is published for %(shortest)d to %(longest)d months (State Council "
    "General Office 2025 No. 22)."
)
PUBLICATION_BEYOND_RETENTION = _(
    "An entry cannot be published for longer than it is kept (CRR 16; State Council "
    "General Office 2025 No. 22)."
)


class RuleQuerySet(models.QuerySet):
    # Bulk writes would skip the lifecycle's checks and audit entries.
    def update(self, **kwargs):
        raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))

    def bulk_create(self, objs, *args, **kwargs):
        raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))

    def bulk_update(self, objs, *args, **kwargs):
        raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))

    def delete(self):
        raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))

    def published(self):
        return self.filter(status=RuleStatus.PUBLISHED)

    def in_force_on(self, day: dt.date):
        return self.published().filter(
            Q(effective_from__lte=day) & (Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        )


class Rule(BilingualTitleMixin, models.Model):
    """One version of a catalogue entry: what earns or costs points, and the law behind it.

    A published version is never edited: a change is a new version with its own
    effective dates, and every ledger event keeps the version it was applied under.
    """

    code = models.CharField(_("code"), max_length=100, validators=[CODE_VALIDATOR])
    version = models.PositiveIntegerField(_("version"), default=1)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    points = models.SmallIntegerField(
        _("points"),
        validators=[MinValueValidator(-law.MAX_SCORE), MaxValueValidator(law.MAX_SCORE)],
        help_text=_("Signed: negative for a deduction, positive for a reward."),
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=RuleSeverity.choices, default=RuleSeverity.ORDINARY
    )
    legal_basis_law = models.CharField(_("law"), max_length=200, validators=[validate_law_name])
    legal_basis_article = models.CharField(
        _("article"), max_length=100, validators=[validate_article]
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RuleStatus.choices, default=RuleStatus.DRAFT
    )
    comment_opens_on = models.DateField(_("comment opens on"), null=True, blank=True)
    comment_closes_on = models.DateField(_("comment closes on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to (inclusive)"),
        null=True,
        blank=True,
        help_text=_("Last day on which an act can fall under this version; empty = open."),
    )
    retention_years = models.PositiveSmallIntegerField(
        _("served for (years)"),
        default=law.RETENTION_YEARS,
        validators=[
            MinValueValidator(law.MIN_RETENTION_YEARS, message=RETENTION_OUT_OF_LAW),
            MaxValueValidator(law.RETENTION_YEARS, message=RETENTION_OUT_OF_LAW),
        ],
        help_text=_("A deduction stops counting this many years after the act (SH 35, ZJ 16)."),
    )
    publication_months = models.PositiveSmallIntegerField(
        _("published for (months)"),
        null=True,
        blank=True,
        help_text=_(
            "How long a deduction is published, within its severity's tier: minor at most 3, "
            "ordinary 3 to 12, serious 12 to 36 (State Council General Office 2025 No. 22). "
            "Empty: the tier's longest."
        ),
    )
    history = history()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="rule_code_version_unique"),
            models.CheckConstraint(condition=~Q(points=0), name="rule_points_nonzero"),
            models.CheckConstraint(
                condition=Q(retention_years__gte=law.MIN_RETENTION_YEARS)
                & Q(retention_years__lte=law.RETENTION_YEARS),
                name="rule_retention_within_law",
            ),
        ]
        permissions = [("apply_rule", "Can apply this rule to residents")]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    # The lifecycle's services set this token just before they save; nothing else may.
    def save(self, *args, **kwargs):
        if not self.__dict__.pop("_lifecycle_write", False):
            raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not self.__dict__.pop("_lifecycle_write", False):
            raise ComplianceError(str(RULE_WRITE_OUTSIDE_LIFECYCLE))
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        shortest, longest = law.PUBLICATION_MONTHS[self.severity]
        if self.publication_months is not None and not (
            shortest <= self.publication_months <= longest
        ):
            raise ValidationError(
                {
                    "publication_months": PUBLICATION_OUT_OF_TIER
                    % {"severity": self.severity, "shortest": shortest, "longest": longest}
                }
            )
        if self.publication_months is not None and self.publication_months > 12 * (
            self.retention_years or 0
        ):
            raise ValidationError({"publication_months": PUBLICATION_BEYOND_RETENTION})

    @property
    def effective_publication_months(self) -> int:
        if self.publication_months is not None:
            return self.publication_months
        return law.PUBLICATION_MONTHS[self.severity][1]

    @property
    def is_deduction(self) -> bool:
        return self.points < 0

    @property
    def legal_basis(self) -> str:
        return f"{self.legal_basis_law} {self.legal_basis_article}"

    def in_force_on(self, day: dt.date) -> bool:
        return (
            self.status == RuleStatus.PUBLISHED
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )

    def in_force_at(self, moment: dt.datetime) -> bool:
        """Whether the version applies to an act at ``moment``: its effective day has come
        in Asia/Shanghai, and the act is not before the instant of publication (SH 10)."""
        from compliance.workdays import to_local_date

        return (
            self.in_force_on(to_local_date(moment))
            and self.published_at is not None
            and self.published_at <= moment
        )


class RuleGroupObjectPermission(GroupObjectPermissionBase):
    """Which departments (through their groups) may apply which rule versions."""

    content_object = models.ForeignKey(Rule, on_delete=models.CASCADE)


class EligibilityThreshold(BilingualTitleMixin, models.Model):
    """A benefit and the score it needs, e.g. civilization loan at 100 or more."""

    code = models.CharField(_("code"), max_length=64, unique=True, validators=[CODE_VALIDATOR])
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    minimum_score = models.PositiveSmallIntegerField(
        _("minimum score"), validators=[MaxValueValidator(law.MAX_SCORE)]
    )
    history = history()

    class Meta:
        ordering = ["code"]
        verbose_name = _("eligibility threshold")
        verbose_name_plural = _("eligibility thresholds")

    def __str__(self) -> str:
        return f"{self.code} >= {self.minimum_score}"


class Disclosure(models.TextChoices):
    SCORE = "score", _("the score and eligibility answers")
    ELIGIBILITY = "eligibility", _("eligibility answers only")


class Purpose(BilingualTitleMixin, models.Model):
    """Why a department may read a resident's score, and what that read discloses (ZJ 19, SH 17)."""

    code = models.CharField(_("code"), max_length=64, unique=True, validators=[CODE_VALIDATOR])
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    legal_basis_law = models.CharField(_("law"), max_length=200)
    legal_basis_article = models.CharField(_("article"), max_length=100)
    discloses = models.CharField(_("discloses"), max_length=16, choices=Disclosure.choices)
    thresholds = models.ManyToManyField(
        EligibilityThreshold, blank=True, verbose_name=_("eligibility answers")
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = history(m2m_fields=[thresholds])

    class Meta:
        ordering = ["code"]
        permissions = [("use_purpose", "Can read scores for this purpose")]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return self.code

    @property
    def legal_basis(self) -> str:
        return f"{self.legal_basis_law} {self.legal_basis_article}"


class PurposeGroupObjectPermission(GroupObjectPermissionBase):
    """Which departments may read scores for which purpose."""

    content_object = models.ForeignKey(Purpose, on_delete=models.CASCADE)


class ScreeningCategory(models.Model):
    """A kind of data the law forbids collecting (LAW §A); regulators may add more."""

    code = models.CharField(_("code"), max_length=64, unique=True, validators=[CODE_VALIDATOR])
    title_zh = models.CharField(_("name (Chinese)"), max_length=200)
    title_en = models.CharField(_("name (English)"), max_length=200)
    legal_source = models.CharField(_("legal source"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    needs_consent = models.BooleanField(
        _("needs written consent"),
        default=False,
        help_text=_(
            "Collected only with the person's written consent (CRR 14 ¶2, ZJ 14 ¶2, SH 14 ¶2): "
            "refused unless the record names its consent_reference. Otherwise never collected."
        ),
    )
    history = history()

    class Meta:
        ordering = ["code"]
        verbose_name = _("prohibited category")
        verbose_name_plural = _("prohibited categories")

    def __str__(self) -> str:
        return self.code


class ScreeningTerm(models.Model):
    """A field-name term that marks a category, in any language or spelling."""

    category = models.ForeignKey(ScreeningCategory, on_delete=models.CASCADE, related_name="terms")
    term = models.CharField(_("term"), max_length=100)
    source = models.CharField(_("source"), max_length=200, blank=True)
    history = history()

    class Meta:
        ordering = ["category__code", "term"]
        constraints = [
            models.UniqueConstraint(fields=["category", "term"], name="screening_term_unique")
        ]
        verbose_name = _("prohibited term")
        verbose_name_plural = _("prohibited terms")

    def __str__(self) -> str:
        return self.term

    def clean(self) -> None:
        _check_policy_entry(self.category_id, key_terms=(self.term,))


class ScreeningPattern(models.Model):
    """A regular expression over values that discloses a category under any key."""

    category = models.ForeignKey(
        ScreeningCategory, on_delete=models.CASCADE, related_name="patterns"
    )
    name = models.CharField(_("name"), max_length=100)
    pattern = models.TextField(_("regular expression"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    history = history()

    class Meta:
        ordering = ["category__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="screening_pattern_unique")
        ]
        verbose_name = _("value pattern")
        verbose_name_plural = _("value patterns")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _check_policy_entry(self.category_id, value_patterns=((self.name, self.pattern),))


class ScreeningDecoder(models.Model):
    """A format the screen unwraps inside string values; a regulator may switch one off."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("format"), max_length=200)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    history = history()

    class Meta:
        ordering = ["code"]
        verbose_name = _("decoder")
        verbose_name_plural = _("decoders")

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from compliance.decoders import DECODERS

        if self.code not in DECODERS:
            raise ValidationError(
                _("Unknown decoder %(code)s; known: %(known)s"),
                params={"code": self.code, "known": ", ".join(sorted(DECODERS))},
            )


def _check_policy_entry(category_id, *, key_terms=(), value_patterns=()) -> None:
    """Compile the entry alone, so a broken term or regex never reaches the screener."""
    from django.core.exceptions import ValidationError

    from compliance import screening

    spec = screening.PolicySpec(
        version=0,
        categories=(
            screening.CategorySpec(
                code="check", key_terms=tuple(key_terms), value_patterns=tuple(value_patterns)
            ),
        ),
    )
    try:
        screening.compile_policy(spec)
    except screening.PolicyError as exc:
        raise ValidationError(
            _("Invalid term or regular expression: %(error)s"), params={"error": exc}
        ) from None


class ScreeningPolicyRevision(models.Model):
    """A counter bumped by every policy change, so screeners can be cached per version."""

    number = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy revision")

    def __str__(self) -> str:
        return f"policy revision {self.number}"


class ScreeningRefusal(models.Model):
    """A submission refused for prohibited data: what and where, never the data itself."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    refused_at = models.DateTimeField(_("refused at"), db_index=True)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64)
    policy_version = models.PositiveIntegerField(_("policy version"))
    categories = models.JSONField(_("categories"))
    paths = models.JSONField(_("paths"))
    violation_count = models.PositiveIntegerField(_("violations"))

    class Meta:
        ordering = ["-refused_at"]
        indexes = [models.Index(fields=["department", "refused_at"])]
        verbose_name = _("refused submission")
        verbose_name_plural = _("refused submissions")

    def __str__(self) -> str:
        return f"refusal {self.pk} ({self.department_id})"


class WorkdayOverride(models.Model):
    """A regulator's correction to the working-day calendar for one date."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("is a working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = history()

    class Meta:
        ordering = ["date"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self) -> str:
        return f"{self.date} {'work' if self.is_workday else 'off'}"


class PublishedSchedule(models.Model):
    """The regulator has entered the State Council's arrangement for a year as overrides.

    Until then the year's working days are computed from the national holiday rules,
    and every deadline in the year says so.
    """

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(9999)]
    )
    document = models.CharField(
        _("State Council notice"),
        max_length=200,
        help_text=_("The notice whose days off and make-up working days were entered."),
    )
    history = history()

    class Meta:
        ordering = ["year"]
        verbose_name = _("published holiday schedule")
        verbose_name_plural = _("published holiday schedules")

    def __str__(self) -> str:
        return f"{self.year}: {self.document}"


class RuleComment(models.Model):
    """A public comment on a draft rule during its comment period (SH 10, ZJ 12)."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField(_("comment"))
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        ordering = ["submitted_at"]
        verbose_name = _("public comment")
        verbose_name_plural = _("public comments")

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.rule_id}"
