app_name = "flavors"

urlpatterns: list = []
