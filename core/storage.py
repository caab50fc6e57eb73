"""The one S3 adapter: uploads, presigned GET URLs, batch deletes. Keys are derived from asset ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.settings import Settings

MAX_DELETE_BATCH = 1000


def asset_file_key(asset_id: int, extension: str) -> str:
    return f"assets/{asset_id}/original.{extension.lstrip('.')}"


def asset_thumbnail_key(asset_id: int) -> str:
    return f"assets/{asset_id}/thumbnail.jpg"


class Storage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.presign_ttl = settings.s3_presign_ttl_seconds
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
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
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
