"""WSGI entry point for d-DeVIS."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")

application = get_wsgi_application()
