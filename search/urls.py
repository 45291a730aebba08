from django.urls import path

from config.security import rate_limited

from . import research_views, views
from .feeds import SearchFeed

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("api/v1/search", views.search_api, name="api"),
    path("trends/", research_views.trends_page, name="trends"),
    path("api/v1/trends", research_views.trends_api, name="trends_api"),
    path("concordance/", research_views.concordance_page, name="concordance"),
    path("api/v1/concordance", research_views.concordance_api, name="concordance_api"),
    path("opensearch.xml", views.opensearch, name="opensearch"),
    path("feeds/search.atom", rate_limited(SearchFeed()), name="feed"),
]
