"""The REST API of experiments, submission, review comments and courses (docs/api.md).

Thin views over the same services and selectors as the pages: another user's experiment
or course answers 404; an instructor may read (and comment on) a submission but changing
it answers 403.
"""

from django.contrib.auth.models import User
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from experiments import selectors
from experiments.comparison import probability_changes
from experiments.models import Comment, Course, Experiment, Recording
from experiments.services.courses import course_create, course_join
from experiments.services.experiments import (
    comment_create,
    experiment_create,
    experiment_delete,
    experiment_duplicate,
    experiment_mark_read,
    experiment_mark_reviewed,
    experiment_reopen,
    experiment_submit,
    experiment_update,
)
from modelzoo.models import ModelVersion
from modelzoo.selectors import model_versions_visible

# ----------------------------------------------------------------------------- serializers


class OwnRecordingField(serializers.PrimaryKeyRelatedField):
    """A recording id, looked up among the caller's own recordings only (others: "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Recording.objects.none()
        return selectors.recording_list(user=api_user(request))


class VisibleModelVersionField(serializers.PrimaryKeyRelatedField):
    """A model version id, looked up among the versions the caller may see (others: "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return ModelVersion.objects.none()
        return model_versions_visible(user=api_user(request))


class ExperimentSerializer(serializers.ModelSerializer):
    recording_a = OwnRecordingField()
    recording_b = OwnRecordingField(required=False, allow_null=True)
    model_version = VisibleModelVersionField(required=False, help_text="Default: the active model version.")
    model_version_b = VisibleModelVersionField(
        required=False,
        allow_null=True,
        help_text="A second model version, to compare two versions on recording A (then leave recording_b empty).",
    )
    owner = serializers.CharField(source="owner.username", read_only=True)
    analyses = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "id",
            "title",
            "notes",
            "recording_a",
            "recording_b",
            "model_version",
            "model_version_b",
            "status",
            "course",
            "owner",
            "submitted_at",
            "created_at",
            "updated_at",
            "analyses",
            "page_url",
            "report_url",
        ]
        read_only_fields = ["status", "course", "submitted_at", "created_at", "updated_at"]
        extra_kwargs = {"title": {"required": False, "allow_blank": True}, "notes": {"required": False}}

    @extend_schema_field(
        inline_serializer(
            "ExperimentAnalyses",
            {"a": serializers.IntegerField(allow_null=True), "b": serializers.IntegerField(allow_null=True)},
        )
    )
    def get_analyses(self, experiment: Experiment) -> dict:
        """The analysis ids of side A and side B (GET /api/analyses/{id}/ for their state)."""
        a, b = selectors.experiment_analyses(experiment)
        return {"a": a.pk if a else None, "b": b.pk if b else None}

    def get_page_url(self, experiment: Experiment) -> str:
        return reverse("experiment_detail", args=[experiment.pk])

    def get_report_url(self, experiment: Experiment) -> str:
        return reverse("experiment_report", args=[experiment.pk])


class SubmitSerializer(serializers.Serializer):
    course = serializers.IntegerField(help_text="The id of a course you attend.")


class ReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["reviewed", "submitted"], help_text="reviewed: done; submitted: back to the waiting list."
    )


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    author_role = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "author", "author_role", "body", "created_at"]
        read_only_fields = ["id", "author", "author_role", "created_at"]

    def get_author_role(self, comment: Comment) -> str:
        """ "student" for the experiment's owner, "instructor" for a reviewer."""
        return "student" if comment.author_id == comment.experiment.owner_id else "instructor"


class FilterChangeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    change = serializers.FloatField(help_text="‖A−B‖ / (‖A‖+‖B‖) of the filter's output map, 0..1")
    cosine = serializers.FloatField(
        allow_null=True, help_text="cosine similarity of the two maps; null (undefined) when both are all zeros"
    )
    images = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="convolution layers: PNG URLs of the filter's map in A and B and of their difference A−B",
    )


class StageSerializer(serializers.Serializer):
    name = serializers.CharField()
    comparable = serializers.BooleanField()
    similarity = serializers.FloatField(
        allow_null=True,
        help_text="cosine similarity of the flattened activations; null when not comparable or both are all zeros",
    )
    change = serializers.FloatField(allow_null=True, help_text="relative L2 change of the flattened activations")
    filters = FilterChangeSerializer(many=True, help_text="most changed first")


class ComparisonSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "running", "done", "failed"])
    predicted = serializers.DictField(child=serializers.CharField(), help_text="{a: label, b: label}")
    probabilities = serializers.ListField(child=serializers.DictField(), help_text="per label: a, b, delta (points)")
    stages = StageSerializer(many=True)


class CourseSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    instructors: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", many=True, read_only=True
    )
    join_code = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = ["id", "name", "description", "role", "instructors", "join_code", "created_at"]
        read_only_fields = ["id", "role", "instructors", "join_code", "created_at"]

    def get_role(self, course: Course) -> str:
        """ "instructor" or "student": the caller's place in the course."""
        user = self.context["request"].user
        return "instructor" if selectors.is_course_instructor(user=user, course=course) else "student"

    def get_join_code(self, course: Course) -> str | None:
        """Shown to the course's instructors only."""
        return course.join_code if self.get_role(course) == "instructor" else None


class JoinSerializer(serializers.Serializer):
    join_code = serializers.CharField(max_length=32)


# ----------------------------------------------------------------------------- experiments


def _owned(experiment: Experiment, request: Request) -> Experiment:
    if experiment.owner_id != api_user(request).pk:
        raise PermissionDenied("Only the student who made this experiment can change it.")
    return experiment


class ExperimentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Experiments you made, and (instructors) those submitted to your courses."""

    serializer_class = ExperimentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Experiment.objects.none()
        experiments = selectors.experiments_visible(user=api_user(self.request)).select_related("owner", "course")
        if self.action == "list":
            params = self.request.query_params
            if params.get("status") in Experiment.Status.values:
                experiments = experiments.filter(status=params["status"])
            if params.get("q"):
                experiments = experiments.filter(title__icontains=params["q"])
            if params.get("course", "").isdigit():
                experiments = experiments.filter(course_id=int(params["course"]))
        return experiments.order_by("-updated_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=Experiment.Status.values),
            OpenApiParameter("q", str, description="search in titles"),
            OpenApiParameter("course", int),
        ]
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        """Your experiments, and submissions to courses you teach; filter by status, course or title."""
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = experiment_create(
            owner=api_user(self.request),
            title=data.get("title", ""),
            notes=data.get("notes", ""),
            recording_a=data["recording_a"],
            recording_b=data.get("recording_b"),
            model_version=data.get("model_version"),
            model_version_b=data.get("model_version_b"),
        )

    def update(self, request: Request, *args, **kwargs) -> Response:
        """Change title and notes (any time) or what it compares (drafts only); the owner only."""
        _owned(self.get_object(), request)  # 403 before any field is looked at
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        if not isinstance(serializer.instance, Experiment):  # update() gave it the experiment of the URL
            raise RuntimeError("An experiment is updated through its own serializer.")
        experiment = _owned(serializer.instance, self.request)
        serializer.instance = experiment_update(experiment=experiment, **serializer.validated_data)

    def perform_destroy(self, instance: Experiment) -> None:
        experiment_delete(experiment=_owned(instance, self.request))

    @extend_schema(request=SubmitSerializer, responses={200: ExperimentSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Submit a draft to a course you attend: its instructors can then read it and comment."""
        experiment = _owned(self.get_object(), request)
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        course = selectors.courses_attended(user=api_user(request)).filter(pk=payload.validated_data["course"]).first()
        if course is None:
            raise ValidationError({"course": ["You do not attend a course with this id."]})
        experiment = experiment_submit(experiment=experiment, course=course)
        return Response(ExperimentSerializer(experiment, context=self.get_serializer_context()).data)

    @extend_schema(request=ReviewSerializer, responses={200: ExperimentSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        """Instructors: mark a submission reviewed, or put it back in the waiting list."""
        experiment = self.get_object()
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if payload.validated_data["status"] == "reviewed":
            experiment = experiment_mark_reviewed(experiment=experiment, reviewer=api_user(request))
        else:
            experiment = experiment_reopen(experiment=experiment, reviewer=api_user(request))
        return Response(ExperimentSerializer(experiment, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={201: ExperimentSerializer})
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: str) -> Response:
        """A new draft copy of one of your experiments."""
        experiment = _owned(self.get_object(), request)
        copy = experiment_duplicate(experiment=experiment, owner=api_user(request))
        return Response(
            ExperimentSerializer(copy, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(methods=["GET"], request=None, responses={200: CommentSerializer(many=True)})
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: Request, pk: str) -> Response:
        """Review comments, oldest first (reading them clears their unread badge); POST adds one.

        The owner (a reply) and the course's instructors may write, once it is submitted.
        """
        experiment = self.get_object()
        if request.method == "POST":
            payload = CommentSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            comment = comment_create(
                experiment=experiment, author=api_user(request), body=payload.validated_data["body"]
            )
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        experiment_mark_read(experiment=experiment, user=api_user(request))
        comments = selectors.comment_list(experiment=experiment).select_related("experiment")
        return Response(CommentSerializer(comments, many=True).data)

    @extend_schema(responses={200: ComparisonSerializer})
    @action(detail=True, methods=["get"])
    def comparison(self, request: Request, pk: str) -> Response:
        """What changed from A to B: predictions, and per stage the similarity and every filter's change."""
        experiment = self.get_object()
        a, b = selectors.experiment_analyses(experiment)
        states = {x.job.status if x else "pending" for x in (a, b)}
        if a is None or b is None or states != {"done"}:
            state = "failed" if "failed" in states else "running" if "running" in states else "pending"
            return Response({"status": state, "predicted": {}, "probabilities": [], "stages": []})
        stages = selectors.analyses_comparison(a, b)
        conv_layers = {layer["name"] for layer in a.layers}

        def images(stage, index: int) -> dict:
            if stage.name not in conv_layers:
                return {}
            sides = {"a": "a", "b": "b", **({"difference": "ab"} if stage.comparable else {})}
            return {
                key: reverse("experiment_filter_image", args=[experiment.pk, stage.name, index, side])
                for key, side in sides.items()
            }

        return Response(
            {
                "status": "done",
                "predicted": {"a": a.predicted_label, "b": b.predicted_label},
                "probabilities": probability_changes(a.probabilities, b.probabilities),
                "stages": [
                    {
                        "name": s.name,
                        "comparable": s.comparable,
                        "similarity": s.similarity if s.comparable else None,
                        "change": s.change if s.comparable else None,
                        "filters": [
                            {"index": f.index, "change": f.change, "cosine": f.cosine, "images": images(s, f.index)}
                            for f in s.ranked()
                        ],
                    }
                    for s in stages
                ],
            }
        )


# ----------------------------------------------------------------------------- courses


class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Courses you teach or attend; instructors create them, students join them by code."""

    serializer_class = CourseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Course.objects.none()
        return selectors.course_list(user=api_user(self.request)).prefetch_related("instructors")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = course_create(
            instructor=api_user(self.request), name=data["name"], description=data.get("description", "")
        )

    @extend_schema(request=JoinSerializer, responses={200: CourseSerializer, 201: CourseSerializer})
    @action(detail=False, methods=["post"])
    def join(self, request: Request) -> Response:
        """Join a course by its code (201 when joined now, 200 when already in it)."""
        payload = JoinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        course, joined = course_join(student=api_user(request), join_code=payload.validated_data["join_code"])
        return Response(
            CourseSerializer(course, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if joined else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["submitted", "reviewed"])],
        responses={200: ExperimentSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def submissions(self, request: Request, pk: str) -> Response:
        """Instructors: experiments submitted to this course, newest first."""
        course = self.get_object()
        if not selectors.is_course_instructor(user=api_user(request), course=course):
            raise PermissionDenied("Only the course's instructors see its submissions.")
        submissions = selectors.course_submissions(course=course, status=request.query_params.get("status", ""))
        page = self.paginate_queryset(submissions)
        data = ExperimentSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)
