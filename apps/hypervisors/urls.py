from django.urls import path

from apps.hypervisors import views

app_name = "hypervisors"

urlpatterns = [
    path("", views.hypervisor_list, name="list"),
    path("capacity/", views.capacity, name="capacity"),
    path("services/", views.service_list, name="services"),
    path("services/<str:service_id>/disable/", views.service_disable, name="service_disable"),
    path("services/<str:service_id>/enable/", views.service_enable, name="service_enable"),
    path("<str:hypervisor_id>/", views.hypervisor_detail, name="detail"),
]
