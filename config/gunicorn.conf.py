"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value can be overridden by the usual GUNICORN_CMD_ARGS or the environment
variables named below.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
# Bodies are capped by the app (GATEWAY_MAX_BODY_BYTES); headers are capped here.
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Access log without query strings, and with identity numbers masked in paths: the
# score read by path (/api/v1/citizens/{id}/score) must not leave the number in a log.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identity": {"()": "gateway.logging.RedactIdentityNumbers"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_identity"],
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_identity"],
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error_console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):
    # Check the configuration once in the master: a missing secret stops gunicorn with
    # one line naming it, instead of every worker failing to boot with a traceback.
    from config.startup import load_settings_or_exit

    load_settings_or_exit()
