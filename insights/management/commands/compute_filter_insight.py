"""Compute what every filter likes, its dead filters and the methods' faithfulness for model versions.

Versions validated before this existed (the bundled one on an existing site) get theirs
here; new versions get theirs from a job queued when they are validated.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from insights.models import VersionInsight
from insights.presenters import method_averages_rows
from insights.services import version_insight_request
from jobs.models import Job
from jobs.runner import job_execute
from modelzoo.models import ModelVersion


class Command(BaseCommand):
    help = (
        "What every filter of a model version likes (its strongest evaluation clips, its mean response per digit), "
        "its dead filters, and each explanation method's faithfulness on it. Default: the active version."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("versions", nargs="*", help="Model version names or ids (default: the active one).")
        parser.add_argument("--missing", action="store_true", help="Every valid version that has none yet.")
        parser.add_argument("--queue", action="store_true", help="Queue the jobs for a worker instead of running here.")
        parser.add_argument(
            "--faithfulness-clips", type=int, default=None, help="Check the methods on this many clips (default 50)."
        )

    def handle(self, *args: Any, versions: list[str], missing: bool, queue: bool, **options: Any) -> None:
        chosen = self._versions(versions, missing)
        if not chosen:
            self.stdout.write("Every valid model version has its filter insight already.")
            return
        for version in chosen:
            try:
                if queue:
                    self._queue(version, options["faithfulness_clips"])  # says what it queued
                    continue
                insight = self._run(version, options["faithfulness_clips"])
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            self._report(insight)

    def _versions(self, names: list[str], missing: bool) -> list[ModelVersion]:
        valid = ModelVersion.objects.filter(status=ModelVersion.Status.VALID)
        if missing:
            return list(
                valid.exclude(pk__in=VersionInsight.objects.filter(job__status=Job.Status.DONE).values("model_version"))
            )
        if not names:
            active = valid.filter(is_active=True).first()
            if active is None:
                raise CommandError("No active model version: name one, or run register_bundled_model first.")
            return [active]
        found = []
        for name in names:
            version = valid.filter(name=name).first() or (
                valid.filter(pk=int(name)).first() if name.isdigit() else None
            )
            if version is None:
                raise CommandError(f"No valid model version called {name!r}.")
            found.append(version)
        return found

    def _queue(self, version: ModelVersion, clips: int | None) -> None:
        insight, created = version_insight_request(version=version, faithfulness_clips=clips)
        state = "queued for a worker" if created else f"already {insight.job.get_status_display().lower()}"
        self.stdout.write(f"{version.name}: {state}")

    def _run(self, version: ModelVersion, clips: int | None) -> VersionInsight:
        insight = VersionInsight.objects.filter(model_version=version).select_related("job").first()
        if insight is not None and clips is not None and insight.job.status != Job.Status.RUNNING:
            insight.delete()  # computed again with the clips asked for
            insight = None
        if insight is None:
            insight = VersionInsight.objects.create(
                model_version=version,
                job=Job.objects.create(
                    kind="version_insight_run",
                    payload={"model_version": version.pk, "faithfulness_clips": clips},
                ),
            )
        if insight.job.status != Job.Status.DONE:
            self.stdout.write(f"{version.name}: computing (loads TensorFlow once)…")
            job = job_execute(job_id=str(insight.job_id))
            if job.status != Job.Status.DONE:
                raise CommandError(f"{version.name}: {job.error}")
            insight.refresh_from_db()
        return insight

    def _report(self, insight: VersionInsight) -> None:
        version = insight.model_version
        self.stdout.write(self.style.SUCCESS(f"{version.name}: done in {insight.timings.get('total_s', '?')} s"))
        for name, profiles in insight.layers.items():
            dead = [p["index"] for p in profiles if p["dead"]]
            listed = f" ({', '.join(map(str, dead))})" if dead else ""
            self.stdout.write(f"  {name}: {len(dead)} of {len(profiles)} filters dead{listed}")
        if insight.faithfulness:
            self.stdout.write(format_methods(insight.faithfulness))


def _similarity(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def format_methods(faithfulness: dict) -> str:
    """The per-method averages as an aligned table, the method to believe first named."""
    table = method_averages_rows(faithfulness)
    lines = [
        f"explanation methods on {faithfulness['clips']} evaluation clips "
        f"(deletion: lower is better; insertion, FF: higher; random weights: lower):",
        f"  {'method':<22}{'deletion':>10}{'insertion':>11}{'FF':>8}{'random w.':>11}{'flagged':>9}",
    ]
    for row in table["rows"]:
        lines.append(
            f"  {row['title']:<22}{row['deletion_auc']:>10.3f}{row['insertion_auc']:>11.3f}{row['ff']:>8.3f}"
            f"{_similarity(row['randomised_similarity']):>11}{row['flagged_share']:>8.0%}"
        )
    reference = table["reference"]
    if reference:
        lines.append(
            f"  {'random cell order':<22}{reference['deletion_auc']:>10.3f}{reference['insertion_auc']:>11.3f}"
        )
    lines.append("  " + table["sentence"])
    return "\n".join(lines)
