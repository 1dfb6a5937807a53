"""Rate limits: per department key for submissions and score reads.

Counted in the default cache, the database's cache table: one count for every worker and
host (settings.CACHES). Failed logins are counted by django-axes (gateway/login_limits.py).
"""

from rest_framework.throttling import SimpleRateThrottle


class SubmissionThrottle(SimpleRateThrottle):
    scope = "submission"

    def get_cache_key(self, request, view):
        principal = request.user
        key_id = getattr(principal, "key_id", None)
        return self.cache_format % {"scope": self.scope, "ident": key_id} if key_id else None


class ScoreReadThrottle(SubmissionThrottle):
    """Score reads per key: a leaked key cannot page through the residents' scores."""

    scope = "score_read"
