"""gunicorn settings for Dailies: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Every value can be overridden from the environment (or on the command line, which wins).
Behind a reverse proxy or load balancer:

* keep-alive: the **proxy** must be the side that closes idle upstream connections. gunicorn
  keeps an idle connection ``GUNICORN_KEEPALIVE`` seconds (75); set the proxy's upstream idle
  timeout below that (nginx ``keepalive_timeout`` in the ``upstream`` block 60 s, AWS ALB idle
  timeout 60 s). When gunicorn closes first, the proxy sends a request down a connection being
  closed and the client gets a reset or 502 — the resets seen at 200 raters came from that.
* ``TRUSTED_PROXY_HOPS`` (the app's setting, not gunicorn's) makes the app believe the proxy's
  ``X-Forwarded-For``; gunicorn's own ``forwarded_allow_ips`` is left at its default.

Workers: ``gthread`` (threads keep connections alive; sync workers close after each response).
Each worker process holds its own database pool; with PostgreSQL keep
``workers × (threads + a few)`` well under the server's ``max_connections``.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))  # > the proxy's upstream idle timeout
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a worker silent this long is killed and replaced
graceful_timeout = 30
# Recycle workers now and then (a slow leak never becomes an outage); jitter staggers restarts.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Each worker builds its own app (and database engine): never share pooled connections across fork.
preload_app = False
# The app writes one JSON access line per request (with its X-Request-ID); gunicorn's own
# access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
