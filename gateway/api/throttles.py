"""Rate limits: per department key for submissions, per client address for logins."""

from rest_framework.throttling import SimpleRateThrottle


class SubmissionThrottle(SimpleRateThrottle):
    scope = "submission"

    def get_cache_key(self, request, view):
        principal = request.user
        key_id = getattr(principal, "key_id", None)
        return self.cache_format % {"scope": self.scope, "ident": key_id} if key_id else None


class LoginThrottle(SimpleRateThrottle):
    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
