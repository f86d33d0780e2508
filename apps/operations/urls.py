from django.urls import path

from apps.operations import views

app_name = "operations"

urlpatterns = [
    path("", views.activity, name="list"),
    path("tracker/", views.tracker, name="tracker"),
    path("<uuid:operation_id>/", views.detail, name="detail"),
    path("<uuid:operation_id>/retry/", views.retry, name="retry"),
]
