"""Initial data that must exist after every migrate (and after a test database flush)."""

from __future__ import annotations

from django.dispatch import Signal
from django.utils import timezone

# Sent inside the transaction of every change to the working-day calendar (an override
# or a published year), with ``actor_kind`` and ``actor_id``. A receiver that raises
# ``ComplianceError`` refuses the change: the whole transaction is rolled back.
calendar_changed = Signal()


def load_default_policy(
    category_model, term_model, pattern_model, revision_model, using, decoder_model=None
):
    """Load the shipped screening policy into the given models (the live ones, or a
    migration's historical ones) unless a policy revision already exists: a regulator's
    later deletions are never undone."""
    from compliance.policy_defaults import DEFAULT_POLICY_VERSION

    if revision_model.objects.using(using).exists():
        return
    add_default_policy_entries(category_model, term_model, pattern_model, using, decoder_model)
    if any(field.name == "needs_consent" for field in category_model._meta.get_fields()):
        from compliance.consent_defaults import CONSENT_CATEGORIES

        load_categories(
            category_model, term_model, pattern_model, using, CONSENT_CATEGORIES, needs_consent=True
        )
    revision_model.objects.using(using).get_or_create(
        pk=1, defaults={"number": DEFAULT_POLICY_VERSION, "changed_at": timezone.now()}
    )


def add_default_policy_entries(
    category_model, term_model, pattern_model, using, decoder_model=None
) -> int:
    """Add every shipped category, term, pattern and decoder that is missing; returns how
    many were added (entries a regulator changed keep their changes)."""
    from compliance.decoders import DECODER_TITLES
    from compliance.policy_defaults import (
        DEFAULT_CATEGORIES,
        category_patterns,
        category_terms,
    )

    # A migration before the sources were recorded passes models without the field.
    sourced = any(field.name == "source" for field in term_model._meta.get_fields())
    added = 0
    for default in DEFAULT_CATEGORIES:
        category, created = category_model.objects.using(using).get_or_create(
            code=default.code,
            defaults={
                "title_zh": default.name_zh,
                "title_en": default.name_en,
                "legal_source": default.legal_source,
            },
        )
        added += created
        for term, source in category_terms(default.code):
            terms = term_model.objects.using(using)
            _, created = terms.get_or_create(
                category=category, term=term, defaults={"source": source[:200]} if sourced else {}
            )
            added += created
            if sourced and not created:
                terms.filter(category=category, term=term, source="").update(source=source[:200])
        for pattern, source in category_patterns(default.code):
            defaults = {"pattern": pattern.pattern, "description": pattern.description[:300]}
            if sourced:
                defaults["source"] = source[:200]
            patterns = pattern_model.objects.using(using)
            _, created = patterns.get_or_create(
                category=category, name=pattern.name, defaults=defaults
            )
            added += created
            if sourced and not created:
                patterns.filter(category=category, name=pattern.name, source="").update(
                    source=source[:200]
                )
    if decoder_model is not None:
        for code, title in DECODER_TITLES.items():
            _, created = decoder_model.objects.using(using).get_or_create(
                code=code, defaults={"title": title}
            )
            added += created
    return added


def load_categories(
    category_model, term_model, pattern_model, using, defaults, *, needs_consent=False
) -> None:
    """Add categories given as ``CategoryDefault`` (the consent-gated ones), if missing."""
    extra = {"needs_consent": True} if needs_consent else {}
    for default in defaults:
        category, _ = category_model.objects.using(using).get_or_create(
            code=default.code,
            defaults={
                "title_zh": default.name_zh,
                "title_en": default.name_en,
                "legal_source": default.legal_source,
                **extra,
            },
        )
        for term in default.key_terms:
            term_model.objects.using(using).get_or_create(category=category, term=term)
        for pattern in default.value_patterns:
            pattern_model.objects.using(using).get_or_create(
                category=category,
                name=pattern.name,
                defaults={"pattern": pattern.pattern, "description": pattern.description[:300]},
            )


def ensure_default_policy(sender, using="default", **kwargs):
    """After every migrate, and after a test flush emptied the tables."""
    from compliance.models import (
        ScreeningCategory,
        ScreeningDecoder,
        ScreeningPattern,
        ScreeningPolicyRevision,
        ScreeningTerm,
    )

    load_default_policy(
        ScreeningCategory,
        ScreeningTerm,
        ScreeningPattern,
        ScreeningPolicyRevision,
        using,
        ScreeningDecoder,
    )


REGULATOR_GROUP = "regulators"
# Regulators manage (add, change, delete where the admin offers it; each audited) the
# catalogue, purposes, thresholds, calendar and screening policy; everything else (the
# audit log, history, the score store, departments, keys) they may only view.
_REGULATOR_MANAGES = (
    "rule",
    "purpose",
    "eligibilitythreshold",
    "screeningcategory",
    "screeningterm",
    "screeningpattern",
    "screeningdecoder",
    "workdayoverride",
    "publishedschedule",
)


def ensure_regulator_group(sender, using="default", **kwargs):
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, _ = Group.objects.using(using).get_or_create(name=REGULATOR_GROUP)
    manage = Q(content_type__app_label="compliance", content_type__model__in=_REGULATOR_MANAGES) & (
        Q(codename__startswith="add_")
        | Q(codename__startswith="change_")
        | Q(codename__startswith="delete_")
    )
    view = Q(
        content_type__app_label__in=["audit", "compliance", "gateway"],
        codename__startswith="view_",
    )
    group.permissions.set(Permission.objects.using(using).filter(manage | view))
