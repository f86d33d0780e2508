app_name = "instances"

urlpatterns: list = []
