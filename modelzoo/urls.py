from django.urls import path

from modelzoo import views

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/<int:version_id>/", views.model_detail, name="model_detail"),
    path("models/<int:version_id>/kernels.png", views.model_kernels, name="model_kernels"),
    path("models/<int:version_id>/activate/", views.model_activate, name="model_activate"),
    path("models/clips/<str:name>.wav", views.bundled_clip_audio, name="bundled_clip_audio"),
]
