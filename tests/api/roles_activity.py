"""The least role each activity route needs, for the role matrix (tests/api/test_roles.py reads `ROLES`)."""

ROLES = {("get", "/api/projects/{project_id}/activity/"): "viewer"}
