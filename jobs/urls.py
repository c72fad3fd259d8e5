from django.urls import path

from jobs import views

urlpatterns = [
    path("<uuid:job_id>/", views.job_detail, name="job_detail"),
    path("<uuid:job_id>/retry/", views.job_retry_view, name="job_retry"),
]
