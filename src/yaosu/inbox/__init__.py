"""The inbox: what waits for each user, gathered from every domain's public service."""
