app_name = "hypervisors"

urlpatterns: list = []
