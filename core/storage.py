"""The one S3 adapter: uploads, presigned GET URLs, batch deletes. Keys are derived from asset ids."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.settings import Settings

MAX_DELETE_BATCH = 1000


def asset_file_key(asset_id: int, extension: str) -> str:
    return f"assets/{asset_id}/original.{extension.lstrip('.')}"


def asset_thumbnail_key(asset_id: int) -> str:
    return f"assets/{asset_id}/thumbnail.jpg"


class QueryPresigner:
    """Presigned GET URLs (AWS Signature V4, query auth, path-style), identical to what botocore's
    `generate_presigned_url("get_object", ...)` answers in the same second, in ~20 us instead of ~1 ms.

    botocore resolves the endpoint ruleset, emits events and builds a request object for every URL; a board page
    presigns two URLs per box. Here the host and credential prefix are worked out once and the signing key once per
    UTC day. Only GET of one object is signed: everything else goes through botocore.
    """

    def __init__(self, endpoint_url: str, bucket: str, access_key: str, secret_key: str, region: str) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"Unsupported S3 endpoint URL for presigning: {endpoint_url!r}")
        # The signed Host header as botocore derives it: lower case, no userinfo, no default port.
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        if parts.port is not None and parts.port != {"http": 80, "https": 443}[parts.scheme]:
            host = f"{host}:{parts.port}"
        self._host = host
        # The URL itself keeps the endpoint as configured (botocore does not rewrite it).
        self._prefix = f"{parts.scheme}://{parts.netloc}"
        self._path_prefix = f"{parts.path.rstrip('/')}/{quote(bucket, safe='')}/"
        self._access_key, self._secret_key, self._region = access_key, secret_key, region
        self._day_key: tuple[str, bytes] = ("", b"")  # replaced as one object: safe across threads

    def _signing_key(self, day: str) -> bytes:
        cached_day, key = self._day_key
        if cached_day != day:
            key = ("AWS4" + self._secret_key).encode()
            for part in (day, self._region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._day_key = (day, key)
        return key

    def presign_get(self, key: str, ttl_seconds: int, now: float | None = None) -> str:
        """A URL that GETs `key` for `ttl_seconds` from `now` (seconds since the epoch; the current time if None)."""
        if not key:
            raise ValueError("An S3 object key must not be empty.")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
        day = stamp[:8]
        scope = f"{day}/{self._region}/s3/aws4_request"
        path = self._path_prefix + quote(key, safe="/~")
        query = (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={quote(f'{self._access_key}/{scope}', safe='-_.~')}"
            f"&X-Amz-Date={stamp}&X-Amz-Expires={int(ttl_seconds)}&X-Amz-SignedHeaders=host"
        )
        canonical_request = f"GET\n{path}\n{query}\nhost:{self._host}\n\nhost\nUNSIGNED-PAYLOAD"
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        signature = hmac.new(self._signing_key(day), string_to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self._prefix}{path}?{query}&X-Amz-Signature={signature}"


class Storage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.presign_ttl = settings.s3_presign_ttl_seconds
        self.presigner = QueryPresigner(
            settings.s3_endpoint_url,
            settings.s3_bucket,
            settings.s3_access_key,
            settings.s3_secret_key.get_secret_value(),
            settings.s3_region,
        )
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
            region_name=settings.s3_region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
            ),
        )

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        response = self._client.get_object(Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def presigned_get_url(self, key: str, ttl_seconds: int | None = None) -> str:
        """A GET URL valid for `ttl_seconds` (the configured TTL if None); the same URL botocore would sign."""
        return self.presigner.presign_get(key, ttl_seconds or self.presign_ttl)

    def presigned_download_url(self, key: str, filename: str, ttl_seconds: int | None = None) -> str:
        """A GET URL whose answer says `Content-Disposition: attachment` with `filename`, so the browser saves the
        file even when the bucket is on another origin (where `<a download>` is ignored). Signed by botocore: a
        download is one URL per click, not a page of them."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=ttl_seconds or self.presign_ttl,
        )
        return url

    def delete_keys(self, keys: Iterable[str]) -> int:
        """Delete keys in batches of at most 1000 per request; return how many were asked to be deleted."""
        pending = [key for key in dict.fromkeys(keys) if key]
        for start in range(0, len(pending), MAX_DELETE_BATCH):
            batch = pending[start : start + MAX_DELETE_BATCH]
            response = self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
            errors = response.get("Errors") or []
            if errors:
                raise RuntimeError(
                    f"S3 refused to delete {len(errors)} object(s): {errors[0].get('Message')}"
                )
        return len(pending)

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)

    def on_answer(self, callback: Callable[[int], None]) -> None:
        """Call `callback(http_status)` after every answer S3 gives (the API notices so that S3 is back)."""

        def after_call(http_response: Any = None, **_: Any) -> None:
            if http_response is not None:
                callback(int(http_response.status_code))

        self._client.meta.events.register("after-call.s3", after_call)
