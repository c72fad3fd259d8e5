"""gunicorn's settings for d-DeVIS: `manage.py serve` (and so `make run`) and production use this file.

    gunicorn -c ddevis_site/gunicorn.conf.py --bind 0.0.0.0:8000

Threads (gthread) so kept-alive connections and slow clients do not hold a whole process; TCP_NODELAY
is gunicorn's default, so a kept-alive response never waits on Nagle's algorithm and delayed ACKs.
"""

import os

wsgi_app = "ddevis_site.wsgi:application"
worker_class = "gthread"
workers = int(os.environ.get("WEB_PROCESSES", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
keepalive = 75  # seconds an idle connection stays open for its next request (browsers reuse it)
backlog = 2048  # connections waiting to be accepted under a burst (Django's dev server: 5)
# Django is imported once, before the port opens: workers fork ready, a listening port means a ready
# site, and a stop does not wait for a worker still importing.
preload_app = True
timeout = 60
graceful_timeout = 20
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True  # one per user in ~/.gunicorn otherwise: sites side by side would share it
