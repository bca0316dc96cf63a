"""Where an index lives: a local folder or an S3 prefix, behind the same five calls.

The one call that needs care is :meth:`Storage.put_new`, a create-only write: it is how
concurrent writers agree on the next manifest generation without a lock. On S3 it is a
conditional PUT (``If-None-Match: *``, atomic on AWS since 2024); in a folder it is a hard
link of a fully written temporary file, which fails if the name exists (atomic on POSIX).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG as stat_is_file
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the storage's root
    size: int
    modified: float  # Unix seconds


class Storage(Protocol):
    """Bytes by key under one root. Keys use '/' whatever the backend."""

    location: str

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Write (or replace) an object; readers see the old or the new bytes, never a mix."""
        ...

    def put_new(self, key: str, data: bytes) -> bool:
        """Create the object only if the key is free; False when it already exists."""
        ...

    def list(self, prefix: str, start_after: str = "") -> list[StoredObject]:
        """Objects under ``prefix`` with keys after ``start_after``, in key order."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        ...


class FolderStorage:
    """An index in a local folder (``ticketlens index build --index PATH``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def _temporary(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.replace(self._temporary(path, data), path)

    def put_new(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        tmp = self._temporary(path, data)
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def list(self, prefix: str, start_after: str = "") -> list[StoredObject]:
        if not prefix:
            directory = self.root
        elif prefix.endswith("/"):
            directory = self._path(prefix.rstrip("/"))
        else:
            directory = self._path(prefix).parent
        if not directory.is_dir():
            return []
        found = []
        for path in directory.rglob("*"):
            if path.name.startswith("."):
                continue  # a temporary file still being written
            key = path.relative_to(self.root).as_posix()
            if not (key.startswith(prefix) and key > start_after):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # deleted by another writer since the directory was read, as an S3 LIST may miss it
            if stat_is_file(stat.st_mode):
                found.append(StoredObject(key, stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda o: o.key)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)


class S3Storage:
    """An index under an S3 prefix (the deployed stack's, or any bucket)."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read())
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def put_new(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*")
            return True
        except ClientError as error:
            # 412: the key exists. 409: another conditional write to the key is in flight.
            if _code(error) in {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}:
                return False
            raise

    def list(self, prefix: str, start_after: str = "") -> list[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            kwargs["StartAfter"] = self.prefix + start_after
        found = []
        for page in paginator.paginate(**kwargs):
            for obj in page.get("Contents", []):
                found.append(StoredObject(obj["Key"][len(self.prefix):], int(obj["Size"]),
                                          obj["LastModified"].timestamp()))
        return found

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            if chunk:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": self.prefix + k} for k in chunk], "Quiet": True}
                )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` -> (bucket, prefix)."""
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"not an S3 location: {uri!r} (expected s3://bucket/prefix/)")
    return bucket, prefix
