"""Held-out-takes and leave-one-speaker-out accuracy of the training recipe (trains one model per fold)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Train and test the recipe: held-out takes (train on takes 10-49, test on 5-9) and leave-one-speaker-out "
        "(every fold). Same options as `python -m modelzoo.recipe_check`; exits 1 when a target is missed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*", help="e.g. --data DIR --folds all --epochs N --seed S --json FILE")

    def run_from_argv(self, argv: list[str]) -> None:
        # Everything after the command name goes to the recipe check's own parser, so
        # `evaluate_recipe --help` shows its options.
        from modelzoo import recipe_check

        status = recipe_check.main(argv[2:])
        if status:
            raise SystemExit(status)

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError("Run it from the command line: python manage.py evaluate_recipe --data DIR")
