from django.urls import path

from apps.overview import views

app_name = "overview"

urlpatterns = [
    path("", views.index, name="index"),
    path("counts/", views.counts, name="counts"),
]
