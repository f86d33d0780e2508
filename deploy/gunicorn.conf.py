"""gunicorn settings for production: its own log lines (errors, and the access log carrying Stratus' request id)
as JSON lines too, like the application's. Use: gunicorn -c deploy/gunicorn.conf.py dashboard.wsgi --bind ...
"""

# The access line names the request id Stratus put on the answer, so it joins the application's records.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
accesslog = "-"
# Longer than the proxy's upstream keepalive_timeout (60 s in deploy/nginx/stratus.conf): gunicorn must not close an
# idle connection the proxy is about to reuse (gunicorn's default is 2 s; the load bench sees such resets).
keepalive = 75
errorlog = "-"
# gunicorn 25+ opens a control socket (for gunicornc) in $XDG_RUNTIME_DIR or ~/.gunicorn/ unless told not to: Stratus
# does not use it, and a service user's home may be read-only (systemd ProtectHome) or shared between containers.
control_socket_disable = True
loglevel = "warning"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "dashboard.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
