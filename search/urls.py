from django.urls import path

from . import views

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("api/v1/search", views.search_api, name="api"),
    path("opensearch.xml", views.opensearch, name="opensearch"),
]
