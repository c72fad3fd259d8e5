"""Reads across the whole site, for the admin's dashboard."""

from django.contrib.auth.models import User

from accounts.roles import INSTRUCTOR, STUDENT
from experiments.models import Analysis, Course, Experiment, Recording


def site_counts() -> dict[str, int]:
    """How much the site holds: students, instructors, recordings, analyses, experiments, courses."""
    return {
        "students": User.objects.filter(groups__name=STUDENT).count(),
        "instructors": User.objects.filter(groups__name=INSTRUCTOR).count(),
        "recordings": Recording.objects.count(),
        "analyses": Analysis.objects.count(),
        "experiments": Experiment.objects.count(),
        "courses": Course.objects.count(),
    }
