"""Model versions in the API (read-only)."""

from rest_framework import serializers, viewsets

from modelzoo.models import ModelVersion


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "name", "is_active", "status", "labels", "metrics", "created_at"]
        read_only_fields = fields


class ModelVersionDetailSerializer(ModelVersionSerializer):
    layers = serializers.SerializerMethodField()

    class Meta(ModelVersionSerializer.Meta):
        fields = [
            *ModelVersionSerializer.Meta.fields,
            "layers",
            "feature_params",
            "hyperparameters",
            "training_data",
            "sha256",
            "description",
        ]
        read_only_fields = fields

    def get_layers(self, version: ModelVersion) -> list[dict]:
        """name, type, filters, kernel_size, output_shape (and parameters) of every layer."""
        keys = ("name", "type", "filters", "kernel_size", "output_shape", "params")
        return [{key: layer.get(key) for key in keys} for layer in version.layers]


class ModelVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Model versions: the valid ones (admins see all)."""

    def get_queryset(self):
        versions = ModelVersion.objects.all()
        if not self.request.user.is_staff:
            versions = versions.filter(status=ModelVersion.Status.VALID)
        return versions

    def get_serializer_class(self):
        return ModelVersionDetailSerializer if self.action == "retrieve" else ModelVersionSerializer
