"""Escalate appeals, and reviews of eligibility answers, not decided by their deadline to the
regulator (ZJ 31, PIPL 24). Run daily."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gateway.services.appeals import appeals_escalate_overdue
from gateway.services.eligibility_reviews import eligibility_reviews_escalate_overdue
from gateway.validation import EARLIEST_YEAR, LATEST_YEAR, parse_calendar_date


class Command(BaseCommand):
    help = "Escalate pending appeals whose decision is overdue; safe to run more than once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", default=None, help="The day to count from (YYYY-MM-DD); default today."
        )

    def handle(self, *args, today=None, **options):
        day = None
        if today:
            try:
                day = parse_calendar_date(today)
            except ValueError:
                raise CommandError(
                    f"--today must be a date YYYY-MM-DD within {EARLIEST_YEAR} to {LATEST_YEAR}"
                ) from None
        escalated = appeals_escalate_overdue(today=day)
        self.stdout.write(f"escalated {len(escalated)} overdue appeal(s)")
        for pk in escalated:
            self.stdout.write(f"  appeal {pk}")
        reviews = eligibility_reviews_escalate_overdue(today=day)
        self.stdout.write(f"escalated {len(reviews)} overdue review(s) of eligibility answers")
        for pk in reviews:
            self.stdout.write(f"  eligibility review {pk}")
