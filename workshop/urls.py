from django.urls import path

from workshop import views

urlpatterns = [
    path("workshop/", views.workshop_home, name="workshop_home"),
    path("workshop/new/", views.training_new, name="training_new"),
    path("workshop/voices/", views.voice_list, name="voice_list"),
    path("workshop/courses/<int:course_id>/limits/", views.course_limits_view, name="course_limits"),
    path("workshop/voices/<int:voice_id>/remove/", views.voice_remove_view, name="voice_remove"),
    path("workshop/<int:training_id>/", views.training_detail, name="training_detail"),
    path("workshop/<int:training_id>/cancel/", views.training_cancel_view, name="training_cancel"),
    path("workshop/<int:training_id>/share/", views.training_share_view, name="training_share"),
    path("workshop/<int:training_id>/debug/", views.training_debug, name="training_debug"),
]
