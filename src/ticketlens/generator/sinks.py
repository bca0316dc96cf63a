"""Where generated tickets go. A sink is anything with ``write`` and ``close``, so tests and
offline runs swap the S3 bucket for a file without touching the generator."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from ticketlens.generator.errors import ConfigError, SinkError
from ticketlens.schemas import RawTicket

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Sink(Protocol):
    name: str  # where tickets go, for messages: "s3://tickets-raw", "out.jsonl", "stdout"

    def write(self, ticket: RawTicket) -> str:
        """Store one ticket; return where it went, for the log."""
        ...

    def close(self) -> None: ...


def to_json(ticket: RawTicket) -> str:
    return ticket.model_dump_json(exclude_none=True)


def object_key(ticket: RawTicket) -> str:
    """``tickets/YYYY/MM/DD/<id>.json``, the date being the ticket's creation day in UTC."""
    day = datetime.fromtimestamp(ticket.created_at, tz=UTC)
    return f"tickets/{day:%Y/%m/%d}/{ticket.ticket_id}.json"


class JsonlSink:
    """One JSON object per line, flushed per ticket so ``tail -f`` and pipes see it at once."""

    def __init__(self, stream: TextIO, name: str, owned: bool = False) -> None:
        self._stream, self.name, self._owned = stream, name, owned
        self._line = 0

    @classmethod
    def to_file(cls, path: Path) -> JsonlSink:
        try:
            return cls(path.open("a", encoding="utf-8"), str(path), owned=True)
        except OSError as error:
            raise ConfigError(f"cannot open {path} for writing: {error.strerror or error}") from None

    @classmethod
    def to_stdout(cls) -> JsonlSink:
        return cls(sys.stdout, "stdout")

    def write(self, ticket: RawTicket) -> str:
        try:
            self._stream.write(to_json(ticket) + "\n")
            self._stream.flush()
        except BrokenPipeError:
            raise  # the reader went away: not a failure, the front door stops quietly
        except OSError as error:
            raise SinkError(f"cannot write to {self.name}: {error.strerror or error}") from None
        self._line += 1
        return f"{self.name}:{self._line}"

    def close(self) -> None:
        if self._owned:
            self._stream.close()


class S3Sink:
    """Put each ticket as its own object; works with AWS or any S3-compatible endpoint."""

    def __init__(self, client: S3Client, bucket: str, endpoint: str) -> None:
        self._client, self.bucket, self.endpoint = client, bucket, endpoint
        self.name = f"s3://{bucket}"

    @classmethod
    def connect(cls, bucket: str, endpoint_url: str | None, region: str, check: bool = True) -> S3Sink:
        """Make the client; with ``check``, fail now (ConfigError) if the bucket cannot be used.

        The Lambda skips the check: its role may write objects without being allowed to
        list the bucket, which HeadBucket needs.
        """
        import boto3
        from botocore.config import Config

        endpoint = endpoint_url or "AWS"
        if not bucket:
            raise ConfigError("no bucket given: pass --bucket NAME or set TICKETLENS_RAW_BUCKET")
        try:
            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}),
            )
        except ValueError as error:  # botocore's "Invalid endpoint: ..."
            raise ConfigError(f"bad S3 endpoint {endpoint_url!r}: {error}") from None
        sink = cls(client, bucket, endpoint)
        if check:
            sink._check()
        return sink

    def _check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise ConfigError(
                    f"bucket {self.bucket!r} does not exist at {self.endpoint}; create it first "
                    "(e.g. `ticketlens setup` on the local emulator) or pass --bucket"
                ) from None
            if code in ("403", "AccessDenied", "Forbidden"):
                raise ConfigError(
                    f"access to bucket {self.bucket!r} at {self.endpoint} was denied (check credentials)"
                ) from None
            raise ConfigError(f"cannot use bucket {self.bucket!r} at {self.endpoint}: {error}") from None
        except EndpointConnectionError:
            raise ConfigError(
                f"cannot reach the S3 endpoint {self.endpoint}; is the emulator running? "
                "(or write locally with --out FILE.jsonl / --stdout)"
            ) from None
        except NoCredentialsError:
            raise ConfigError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (any value works "
                "for the emulator) or write locally with --out FILE.jsonl / --stdout"
            ) from None
        except BotoCoreError as error:
            raise ConfigError(f"cannot use bucket {self.bucket!r} at {self.endpoint}: {error}") from None

    def write(self, ticket: RawTicket) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        key = object_key(ticket)
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=to_json(ticket).encode("utf-8"), ContentType="application/json"
            )
        except (BotoCoreError, ClientError) as error:
            raise SinkError(f"upload of {key} to {self.name} at {self.endpoint} failed: {error}") from None
        return f"{self.name}/{key}"

    def close(self) -> None:
        self._client.close()
