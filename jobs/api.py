"""Jobs in the API: read one, retry a failed one."""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from core.auth import api_user
from jobs.models import Job
from jobs.selectors import job_get_for_user
from jobs.services import job_retry


class JobStateFields(serializers.Serializer):
    """The state of the job behind an object (an analysis, an attribution): status, progress, error."""

    status = serializers.CharField(source="job.status", read_only=True)
    progress = serializers.IntegerField(source="job.progress", read_only=True)
    error = serializers.CharField(source="job.error", read_only=True)


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "error",
            "result",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


@extend_schema(responses=JobSerializer)
@api_view(["GET"])
def job_detail(request: Request, job_id: uuid.UUID) -> Response:
    """A job's status, progress (0-100), error and result."""
    return Response(JobSerializer(job_get_for_user(user=api_user(request), job_id=job_id)).data)


@extend_schema(request=None, responses={202: JobSerializer})
@api_view(["POST"])
def job_retry_api(request: Request, job_id: uuid.UUID) -> Response:
    """Queue a failed job again."""
    job = job_retry(job=job_get_for_user(user=api_user(request), job_id=job_id))
    return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
