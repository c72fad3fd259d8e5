"""WSGI entry point for d-DeVIS (gunicorn, granian and runserver all load `application`)."""

import os

from django.core.wsgi import get_wsgi_application

from ddevis_site.body_limits import with_body_deadline

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")

# Every request body is read within a time limit, so a slow or missing body cannot hold a thread.
application = with_body_deadline(get_wsgi_application())
