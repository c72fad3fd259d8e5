"""Trainings in the API: start one, list and read yours, cancel one."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from core.errors import ServiceError
from core.throttles import api_job_throttles
from workshop import selectors, services
from workshop.forms import DesignForm
from workshop.models import Training


class TrainingSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="job.progress", read_only=True)
    epochs = serializers.IntegerField(read_only=True)
    model_version: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Training
        fields = [
            "id",
            "name",
            "status",
            "progress",
            "epochs",
            "architecture",
            "hyperparameters",
            "seed",
            "history",
            "model_version",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class TrainingRequestSerializer(serializers.Serializer):
    """What to train (the schema only; the design form judges it)."""

    name = serializers.CharField()
    architecture = serializers.DictField(help_text="filters [3], kernels [3], pools [3] (optional), dense, dropout")
    epochs = serializers.IntegerField(min_value=1, max_value=30)
    learning_rate = serializers.FloatField(required=False)
    augment = serializers.BooleanField(required=False, default=True)
    seed = serializers.IntegerField(required=False, default=0)


def _errors(form: DesignForm) -> dict:
    """The form's errors keyed as the body names them (``architecture.filters[1]``), with the first as `detail`."""
    names = {}
    for field in form.errors:
        kind, _, n = field.rpartition("_")
        names[field] = (
            f"architecture.{kind}[{int(n) - 1}]"
            if kind in ("filters", "kernels", "pools")
            else (f"architecture.{field}" if field in ("dense", "dropout") else field)
        )
    errors = {names[field]: list(messages) for field, messages in form.errors.items() if field != "__all__"}
    first = next(iter(form.errors.values()))[0]
    return {"detail": first, **errors}


@extend_schema(
    request=TrainingRequestSerializer, responses={200: TrainingSerializer(many=True), 202: TrainingSerializer}
)
@api_view(["GET", "POST"])
@throttle_classes(api_job_throttles("trainings"))
def training_list(request: Request) -> Response:
    """GET: your trainings, newest first. POST: train a design (202); a second running training answers 409."""
    if request.method == "GET":
        trainings = selectors.trainings_for(user=api_user(request)).filter(owner=api_user(request))
        for training in trainings:
            services.training_sync(training=training)
        return Response(TrainingSerializer(trainings, many=True).data)
    body = request.data if isinstance(request.data, dict) else {}
    if "architecture" in body and not isinstance(body["architecture"], dict):
        return Response({"detail": "architecture must be an object: {filters, kernels, dense, dropout}."}, status=400)
    lengths = {k: len(v) for k, v in (body.get("architecture") or {}).items() if isinstance(v, list)}
    wrong = [k for k in ("filters", "kernels", "pools") if k in lengths and lengths[k] != 3]
    if wrong:
        return Response(
            {"detail": f"architecture.{wrong[0]} must list 3 values, one per convolution layer."}, status=400
        )
    form = DesignForm.from_api(body)
    if not form.is_valid():
        return Response(_errors(form), status=status.HTTP_400_BAD_REQUEST)
    try:
        training = services.training_start(
            owner=api_user(request),
            name=form.cleaned_data["name"],
            design=form.design(),
            seed=form.cleaned_data["seed"],
        )
    except ServiceError as exc:
        return Response({"detail": exc.message}, status=exc.status)
    training = Training.objects.select_related("job").get(pk=training.pk)
    return Response(TrainingSerializer(training).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses=TrainingSerializer)
@api_view(["GET"])
def training_detail(request: Request, training_id: int) -> Response:
    """One of your trainings: status, progress, history per epoch, its model version and error."""
    training = services.training_sync(training=selectors.training_get(user=api_user(request), training_id=training_id))
    return Response(TrainingSerializer(training).data)


@extend_schema(request=None, responses=TrainingSerializer)
@api_view(["POST"])
def training_cancel(request: Request, training_id: int) -> Response:
    """Stop a training (it ends after the batch it is on); 409 once it has finished."""
    training = services.training_cancel(
        training=selectors.training_get(user=api_user(request), training_id=training_id)
    )
    return Response(TrainingSerializer(training).data)
