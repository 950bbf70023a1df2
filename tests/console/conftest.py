"""Browser tests wait as long as a loaded CI machine needs: Playwright's default five seconds for
an ``expect`` made the PostgreSQL login cases fail when both cores were busy. Waiting longer
never lets a wrong page pass; it only stops a slow right page from failing."""

from playwright.sync_api import expect

expect.set_options(timeout=30_000)
