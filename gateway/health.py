"""Liveness and readiness probes for load balancers."""

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """The process answers (no database work): the load balancer's liveness probe."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """The database answers: take this host out of rotation when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
