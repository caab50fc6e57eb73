"""Who may call each route of api/routes/studios.py (tests/api/test_roles.py reads it; docs/studios.md)."""

ROLES = {
    ("get", "/api/studios/"): "login",
    ("post", "/api/studios/"): "login",
    ("get", "/api/studios/{studio_id}/"): "viewer",
    ("patch", "/api/studios/{studio_id}/"): "owner",
    ("delete", "/api/studios/{studio_id}/"): "owner",
    ("get", "/api/studios/{studio_id}/members/"): "viewer",
    ("patch", "/api/studios/{studio_id}/members/{user_id}/"): "owner",
    ("delete", "/api/studios/{studio_id}/members/{user_id}/"): "owner_or_self",
    ("post", "/api/studios/{studio_id}/invites/"): "owner",
    ("get", "/api/studios/{studio_id}/invites/"): "owner",
    ("delete", "/api/studios/{studio_id}/invites/{invite_id}/"): "owner",
    ("get", "/api/join/{token}/"): "public",
    ("post", "/api/join/{token}/"): "login",
}
