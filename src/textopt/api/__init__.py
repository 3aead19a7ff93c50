"""The REST API (`/v1`) and the HTTP plumbing the web UI shares: app, auth, problems."""
