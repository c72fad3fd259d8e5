from django.urls import path

from live import views

urlpatterns = [
    path("live/", views.live_page, name="live"),
    path("live/freeze/", views.live_freeze_view, name="live_freeze"),
    path("live/frozen/<int:recording_id>/", views.live_frozen, name="live_frozen"),
]
