"""The clinic web app (issue 7): FastAPI pages and REST API on the service layer.

Start it with ``dermatrack serve`` or build it with :func:`dermatrack.web.app.create_app`.
"""
