"""What the model zoo tells the apps above it, without importing them."""

from django.dispatch import Signal

#: Sent by :func:`modelzoo.worker.model_version_validate` with ``version=`` once a version is valid
#: (the insights app computes what each of its filters likes).
version_validated = Signal()
