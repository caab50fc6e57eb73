"""Presigned GET URLs: our SigV4 presigner answers botocore's exact URL, and the real S3 honours and checks it."""

import asyncio
import calendar
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.settings import Settings
from core.storage import QueryPresigner, Storage

KEYS = (
    "assets/1/original.png",
    "assets/2/thumbnail.jpg",
    "odd/a b+c=d&e?f#g%h~i!j'k(l)m*n;o:p@q,r$s/ü€ 😀/x.txt",
    "//double//slash/./..",
)


def botocore_url(storage: Storage, key: str, ttl: int) -> str:
    url: str = storage._client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket, "Key": key}, ExpiresIn=ttl
    )
    return url


def signed_at(url: str) -> float:
    stamp = parse_qs(urlsplit(url).query)["X-Amz-Date"][0]
    return float(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("ttl", [1, 900, 7 * 24 * 3600])
def test_the_url_is_botocores_for_the_same_second(storage: Storage, key: str, ttl: int) -> None:
    expected = botocore_url(storage, key, ttl)
    assert storage.presigner.presign_get(key, ttl, now=signed_at(expected)) == expected


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:80", "https://S3.Example.com:443/", "http://[::1]:8333", "http://h:9/prefix"],
)
def test_other_endpoints_and_regions_match_botocore_too(settings: Settings, endpoint: str) -> None:
    other = settings.model_copy(update={"s3_endpoint_url": endpoint, "s3_region": "eu-west-3"})
    storage = Storage(other)
    for key in KEYS:
        expected = botocore_url(storage, key, 900)
        assert storage.presigner.presign_get(key, 900, now=signed_at(expected)) == expected


def test_the_default_ttl_is_the_configured_one(storage: Storage, settings: Settings) -> None:
    url = storage.presigned_get_url("assets/3/original.png")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(settings.s3_presign_ttl_seconds)]
    assert url.startswith(
        f"{settings.s3_endpoint_url.rstrip('/')}/{settings.s3_bucket}/assets/3/original.png?"
    )


def test_an_empty_key_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.presigned_get_url("")


async def test_s3_serves_the_url_and_refuses_a_tampered_or_expired_one(storage: Storage) -> None:
    key = f"tests/presign/{secrets.token_hex(4)}/a file ü+€.txt"
    other = f"tests/presign/{secrets.token_hex(4)}/other.txt"
    storage.put_bytes(key, b"presigned body", "text/plain")
    storage.put_bytes(other, b"someone else's", "text/plain")
    url = storage.presigned_get_url(key, 900)
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    flipped = "0" if signature[-1] != "0" else "1"
    tampered = {
        "longer expiry": url.replace("X-Amz-Expires=900", "X-Amz-Expires=901"),
        "other key": url.replace(urlsplit(url).path, urlsplit(storage.presigned_get_url(other)).path),
        "other signature": url.replace(signature, signature[:-1] + flipped),
        "expired": storage.presigner.presign_get(key, 60, now=time.time() - 3600),
    }
    async with httpx.AsyncClient(timeout=30) as http:
        good = await http.get(url)
        assert good.status_code == 200, good.text
        assert good.content == b"presigned body"
        for reason, bad_url in tampered.items():
            bad = await http.get(bad_url)
            assert bad.status_code == 403, (reason, bad.status_code, bad.text[:300])
    storage.delete_keys([key, other])


def test_a_presigner_refuses_an_endpoint_it_cannot_sign_for() -> None:
    with pytest.raises(ValueError):
        QueryPresigner("ftp://example.com", "bucket", "ak", "sk", "us-east-1")


async def test_a_url_dies_when_its_real_ttl_has_passed(settings: Settings) -> None:
    """Real time, not an injected clock: with S3_PRESIGN_TTL_SECONDS shortened to 2 s, S3 serves the URLs the app
    hands out within that TTL and refuses them once it has passed."""
    storage = Storage(settings.model_copy(update={"s3_presign_ttl_seconds": 2}))
    key = f"tests/presign/{secrets.token_hex(4)}/ttl.txt"
    storage.put_bytes(key, b"short-lived", "text/plain")
    url = storage.presigned_get_url(key)
    async with httpx.AsyncClient(timeout=30) as http:
        fresh = await http.get(url)
        assert fresh.status_code == 200, fresh.text[:300]
        # The signature covers whole seconds: past second 2 after the signing second the URL must be refused.
        await asyncio.sleep(max(0.0, signed_at(url) + 3.2 - time.time()))
        stale = await http.get(url)
        assert stale.status_code == 403, stale.text[:300]
    storage.delete_keys([key])
