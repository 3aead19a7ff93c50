"""HTTP plumbing the API and the dashboard share: request dependencies, problem bodies, ids.

Both faces import this package and neither imports the other's routes, so the dashboard
never depends on the API (the app factory in `api/app.py` mounts the dashboard).
"""
