from django.urls import path

from apps.networks import views

app_name = "networks"

urlpatterns = [
    path("floating-ips/", views.floating_ip_list, name="floating_ips"),
    path("floating-ips/allocate/", views.floating_ip_allocate, name="floating_ip_allocate"),
    path("floating-ips/<str:floating_ip_id>/associate/", views.floating_ip_associate, name="floating_ip_associate"),
    path(
        "floating-ips/<str:floating_ip_id>/disassociate/",
        views.floating_ip_disassociate,
        name="floating_ip_disassociate",
    ),
    path("floating-ips/<str:floating_ip_id>/release/", views.floating_ip_release, name="floating_ip_release"),
    path("security-groups/", views.security_group_list, name="security_groups"),
    path("security-groups/create/", views.security_group_create, name="security_group_create"),
    path("security-groups/<str:group_id>/", views.security_group_detail, name="security_group"),
    path("security-groups/<str:group_id>/delete/", views.security_group_delete, name="security_group_delete"),
    path("security-groups/<str:group_id>/rules/", views.rule_create, name="rule_create"),
    path("security-groups/<str:group_id>/rules/<str:rule_id>/delete/", views.rule_delete, name="rule_delete"),
]
