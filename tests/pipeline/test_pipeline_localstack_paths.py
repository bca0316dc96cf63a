"""The LocalStack paths the README gives, as a user runs them: `infra/localstack/init-ticketlens.sh`
and `ticketlens demo --endpoint`, against LocalStack started without Docker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.localstack]

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [line for line in (ROOT / "samples" / "tickets.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def user_env(localstack_endpoint: str) -> Iterator[dict[str, str]]:
    """A user's shell pointed at LocalStack, with resource names of this test's own (the
    TICKETLENS_* settings every command reads); the stack is deleted afterwards."""
    suffix = uuid.uuid4().hex[:8]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TICKETLENS_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # ticketlens' console scripts
        PYTHONUNBUFFERED="1", AWS_ENDPOINT_URL=localstack_endpoint,
        TICKETLENS_STACK_NAME=f"paths-{suffix}", TICKETLENS_RAW_BUCKET=f"tickets-raw-{suffix}",
        TICKETLENS_ENRICHED_BUCKET=f"tickets-enriched-{suffix}",
        TICKETLENS_QUEUE_NAME=f"ticket-processing-queue-{suffix}",
        TICKETLENS_DLQ_NAME=f"ticket-processing-dlq-{suffix}", TICKETLENS_TABLE_NAME=f"tickets-metadata-{suffix}",
        TICKETLENS_IDEMPOTENCY_TABLE=f"tickets-idempotency-{suffix}",
        TICKETLENS_COUNTS_TABLE=f"tickets-counts-{suffix}",
    )
    yield env
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {**env, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                            "AWS_REGION": "us-east-1"}.items():
            mp.setenv(name, value)
        from ticketlens.deploy.stack import delete
        from ticketlens.settings import get_settings

        get_settings.cache_clear()
        delete(get_settings())
    get_settings.cache_clear()


def test_init_script_deploys_the_template_and_seeds_the_samples(user_env: dict[str, str]) -> None:
    # WHEN the script runs as the README gives it, with LocalStack's endpoint
    result = subprocess.run(["infra/localstack/init-ticketlens.sh"], cwd=ROOT, env=user_env,
                            capture_output=True, text=True, timeout=300, check=False)

    # THEN it deployed the template without the functions, uploaded the samples, and their
    # S3 events are waiting on the queue for ticket-processor
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "to localstack" in out and "functions left out" in out and "patched:" not in out
    assert f"{len(SAMPLES)} tickets uploaded" in out
    assert f"raw objects       {len(SAMPLES)}" in out
    waiting = int(out.split(f"queue             {user_env['TICKETLENS_QUEUE_NAME']}: ")[1].split()[0])
    assert waiting >= len(SAMPLES)  # one S3 event per object (and S3's test event)


def test_demo_with_endpoint_enriches_generated_tickets_through_localstack(user_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    # WHEN the demo runs against LocalStack until 12 generated tickets are enriched
    result = subprocess.run(
        [sys.executable, "-m", "ticketlens.cli", "demo", "--endpoint", user_env["AWS_ENDPOINT_URL"], "--tickets", "12",
         "--speed", "300", "--template", str(ROOT / "template.yaml")],
        cwd=tmp_path, env=user_env, capture_output=True, text=True, timeout=300, check=False,
    )

    # THEN it deployed without functions or patches, and every ticket went through S3 -> SQS -> handler
    out, err = result.stdout, result.stderr
    assert result.returncode == 0, out[-3000:] + err[-3000:]
    assert f"using the AWS endpoint {user_env['AWS_ENDPOINT_URL']}" in err
    assert "functions left out" in err and "patched:" not in err
    final = out[out.index("final"):]
    assert "enriched 12 " in final and "dead-letter queue 0" in final
    assert (tmp_path / ".ticketlens" / "demo.log").read_text().count('"ticket enriched"') == 12
