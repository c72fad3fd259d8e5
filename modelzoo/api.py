"""Model versions in the API (read-only)."""

from rest_framework import serializers, viewsets

from modelzoo.models import ModelVersion
from modelzoo.selectors import model_versions_visible


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
    """Model versions: the valid ones of the site, your own and those shared with you (admins see all)."""

    def get_queryset(self):
        # The one access rule: another user's workshop version is a 404 here too.
        return model_versions_visible(user=self.request.user)

    def get_serializer_class(self):
        return ModelVersionDetailSerializer if self.action == "retrieve" else ModelVersionSerializer
