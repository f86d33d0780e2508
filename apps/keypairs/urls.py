app_name = "keypairs"

urlpatterns: list = []
