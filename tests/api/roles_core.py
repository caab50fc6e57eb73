"""Who may call each route that existed before studios (docs/roles.md; checked by tests/api/test_roles.py).

Every `tests/api/roles_*.py` exports `ROLES`: `(method, openapi_path) -> rule`, the method lower-case and the path
exactly as in `app.openapi()["paths"]` (sockets as `("websocket", path)`). A rule is one of:

- `public`: anyone, logged in or not.
- `login`: any logged-in user, whatever their studios; anonymous 401.
- `viewer` / `editor` / `owner`: the least studio role the route needs. A member with a lower role gets 403 with
  the sentence "This needs the <role> role in <studio>; …", a member of another studio 404 (as for a missing
  object), anonymous 401.
- `owner_or_self`: a member route `/members/{user_id}/`: the studio's owner, or the member `user_id` names.
- `admin`: superusers only; everyone else 403, anonymous 401.
- `provider`: the Kie.ai callback, which authenticates with its own signature: every caller gets the same answer
  whoever they are (never 401/403/404), so a login neither opens nor closes it.
"""

from __future__ import annotations

PUBLIC = "public"
LOGIN = "login"
VIEWER = "viewer"
EDITOR = "editor"
OWNER = "owner"
OWNER_OR_SELF = "owner_or_self"
ADMIN = "admin"
PROVIDER = "provider"

RULES = (PUBLIC, LOGIN, VIEWER, EDITOR, OWNER, OWNER_OR_SELF, ADMIN, PROVIDER)

ROLES: dict[tuple[str, str], str] = {
    # accounts
    ("get", "/api/health/"): PUBLIC,
    ("get", "/api/auth/registration/"): PUBLIC,
    ("post", "/api/auth/register/"): PUBLIC,
    ("post", "/api/auth/login/"): PUBLIC,
    ("post", "/api/auth/session/"): PUBLIC,
    ("delete", "/api/auth/session/"): PUBLIC,
    ("get", "/api/auth/me/"): LOGIN,
    ("get", "/api/auth/me/usage/"): LOGIN,
    ("post", "/api/auth/logout-everywhere/"): LOGIN,
    ("post", "/api/auth/socket-ticket/"): VIEWER,
    ("get", "/api/models/"): LOGIN,
    # projects
    ("get", "/api/projects/"): LOGIN,
    ("post", "/api/projects/"): LOGIN,
    ("get", "/api/projects/{project_id}/"): VIEWER,
    ("patch", "/api/projects/{project_id}/"): EDITOR,
    ("delete", "/api/projects/{project_id}/"): OWNER,
    ("get", "/api/projects/{project_id}/export/"): VIEWER,
    ("get", "/api/projects/{project_id}/retention-preview/"): VIEWER,
    # shots
    ("get", "/api/projects/{project_id}/boxes/"): VIEWER,
    ("post", "/api/projects/{project_id}/boxes/"): EDITOR,
    ("post", "/api/projects/{project_id}/boxes/bulk/"): EDITOR,
    ("post", "/api/projects/{project_id}/boxes/reorder/"): EDITOR,
    ("get", "/api/boxes/{box_id}/"): VIEWER,
    ("patch", "/api/boxes/{box_id}/"): EDITOR,
    ("delete", "/api/boxes/{box_id}/"): EDITOR,
    ("get", "/api/boxes/{box_id}/assets/"): VIEWER,
    ("get", "/api/boxes/{box_id}/smart-edits/"): VIEWER,
    # assets and generation
    ("get", "/api/assets/{asset_id}/"): VIEWER,
    ("patch", "/api/assets/{asset_id}/"): EDITOR,
    ("delete", "/api/assets/{asset_id}/"): EDITOR,
    ("get", "/api/assets/{asset_id}/lineage/"): VIEWER,
    ("get", "/api/assets/{asset_id}/download/"): VIEWER,
    ("post", "/api/boxes/{box_id}/generate/"): EDITOR,
    ("post", "/api/assets/{asset_id}/animate/"): EDITOR,
    ("post", "/api/assets/{asset_id}/retry/"): EDITOR,
    ("post", "/api/boxes/{box_id}/upload/"): EDITOR,
    # With a box_id (as the matrix sends it); without one a smart edit touches no studio and needs a login only.
    ("post", "/api/smart-edit/"): EDITOR,
    # comments: any member comments; deleting someone else's comment (here the owner's) needs the editor role
    ("get", "/api/projects/{project_id}/comments/"): VIEWER,
    ("post", "/api/boxes/{box_id}/comments/"): VIEWER,
    ("post", "/api/assets/{asset_id}/comments/"): VIEWER,
    ("delete", "/api/comments/{comment_id}/"): EDITOR,
    # share links and the review page
    ("post", "/api/projects/{project_id}/share-links/"): OWNER,
    ("get", "/api/projects/{project_id}/share-links/"): OWNER,
    ("delete", "/api/share-links/{link_id}/"): OWNER,
    ("get", "/api/public/{token}/"): PUBLIC,
    ("get", "/api/public/{token}/comments/"): PUBLIC,
    ("post", "/api/public/{token}/comments/"): PUBLIC,
    # the provider and the administrators
    ("post", "/api/providers/kie/callback/{asset_id}/"): PROVIDER,
    ("post", "/api/admin/retention/run/"): ADMIN,
    # sockets (tests/realtime/test_socket_roles.py opens them)
    ("websocket", "/ws/projects/{project_id}/"): VIEWER,
    ("websocket", "/ws/public/{token}/"): PUBLIC,
}
