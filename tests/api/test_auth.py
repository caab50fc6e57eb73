"""Accounts as a user meets them: register, log in, see yourself; bad credentials and bad bodies answer clearly."""

from datetime import UTC, datetime, timedelta

import jwt
from sqlmodel import select

from core.models import User
from tests.builders import PASSWORD, register, unique_email


async def test_register_login_me(client):
    email = unique_email()
    created = await client.post(
        "/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "Ada"}
    )
    assert created.status_code == 201
    assert created.json()["email"] == email
    assert "password" not in created.text and "hash" not in created.text

    login = await client.post("/api/auth/login/", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0

    me = await client.get("/api/auth/me/", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["display_name"] == "Ada"


async def test_duplicate_email_is_409_case_insensitive(client):
    email = unique_email()
    body = {"email": email, "password": PASSWORD, "display_name": "A"}
    assert (await client.post("/api/auth/register/", json=body)).status_code == 201
    again = await client.post("/api/auth/register/", json={**body, "email": email.upper()})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


async def test_wrong_password_and_unknown_email_answer_401_alike(client):
    email = unique_email()
    await client.post("/api/auth/register/", json={"email": email, "password": PASSWORD, "display_name": "A"})
    wrong = await client.post("/api/auth/login/", json={"email": email, "password": "not the password"})
    unknown = await client.post("/api/auth/login/", json={"email": unique_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_inactive_user_cannot_log_in_nor_use_a_token(client, sessionmaker):
    email = unique_email()
    headers = await register(client, email=email)
    async with sessionmaker() as session:
        user = (await session.exec(select(User).where(User.email == email))).one()
        user.is_active = False
        session.add(user)
        await session.commit()
    login = await client.post("/api/auth/login/", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    assert "deactivated" in login.json()["detail"]
    assert (await client.get("/api/auth/me/", headers=headers)).status_code == 401


async def test_missing_bad_and_expired_tokens_are_401(client, settings):
    assert (await client.get("/api/auth/me/")).status_code == 401
    bad = await client.get("/api/auth/me/", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    past = datetime.now(UTC) - timedelta(hours=2)
    expired_token = jwt.encode(
        {"sub": "1", "iat": past, "exp": past + timedelta(minutes=1), "typ": "access"},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    expired = await client.get("/api/auth/me/", headers={"Authorization": f"Bearer {expired_token}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    forged = jwt.encode(
        {"sub": "1", "typ": "access", "exp": datetime.now(UTC) + timedelta(hours=1)}, "x" * 40
    )
    assert (
        await client.get("/api/auth/me/", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401


async def test_register_validation_names_the_fields(client):
    cases = [
        {"email": "not-an-email", "password": PASSWORD, "display_name": "A"},
        {"email": unique_email(), "password": "short", "display_name": "A"},
        {"email": unique_email(), "password": PASSWORD, "display_name": "   "},
        {"email": unique_email(), "password": PASSWORD, "display_name": "x" * 121},
        {"email": unique_email(), "password": PASSWORD},
        {"email": unique_email(), "password": 12345678, "display_name": "A"},
        {"email": unique_email(), "password": PASSWORD, "display_name": "A", "is_superuser": True},
    ]
    for body in cases:
        response = await client.post("/api/auth/register/", json=body)
        assert response.status_code == 422, body
        assert response.json()["details"][0]["loc"][0] == "body"
    not_json = await client.post(
        "/api/auth/register/", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


async def test_validation_errors_never_echo_input_and_survive_unencodable_text(client):
    secret = "hunter2"  # too short: refused, and must not come back in the answer
    response = await client.post(
        "/api/auth/register/",
        json={"email": unique_email(), "password": secret, "display_name": "A"},
    )
    assert response.status_code == 422
    assert secret not in response.text
    lone_surrogate = b'{"email": "a@example.com", "password": 5, "display_name": "\\ud800"}'
    odd = await client.post(
        "/api/auth/register/", content=lone_surrogate, headers={"Content-Type": "application/json"}
    )
    assert odd.status_code == 422
