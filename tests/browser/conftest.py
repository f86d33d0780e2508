"""The page tour's fixtures (see tour.py), for the tests of every page."""

from tests.browser.tour import tour, tour_cloud  # noqa: F401 - fixtures
