"""The console tests' browser is the one in tests/conftest.py (``browser``): one Playwright
instance per session for every package's browser tests."""
