"""ASGI entry point for d-DeVIS."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")

application = get_asgi_application()
