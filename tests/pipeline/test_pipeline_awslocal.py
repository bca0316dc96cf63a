"""The docs' `awslocal` queries (docs/pipeline.md, "The same queries with `awslocal`"), run as
written, in bash, against the seed's stack on each emulator: the commands a user copies work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_fixtures import ON_BOTH_EMULATORS, in_ci
from pipeline_helpers import run_runner_until

from ticketlens.store import TicketStore

pytestmark = [pytest.mark.slow, ON_BOTH_EMULATORS]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "pipeline.md"
HEADING = "### The same queries with `awslocal`"
MALFORMED_KEY = "tickets/2025/11/24/awslocal-malformed.json"


def awslocal_block() -> str:
    """The bash block under the heading, verbatim."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(HEADING):]
    start = section.index("```bash\n") + len("```bash\n")
    return section[start:section.index("```", start)]


def awslocal_dir() -> Path:
    """Where `awslocal` and `aws` live: LocalStack's venv (`ticketlens localstack install`), else PATH."""
    venv = ROOT / ".venv-localstack" / "bin"
    if (venv / "awslocal").exists():
        return venv
    found = shutil.which("awslocal")
    if found:
        return Path(found).parent
    reason = "awslocal is installed with LocalStack's venv: `ticketlens localstack install` (needs Python 3.13)"
    if in_ci():
        pytest.fail(f"CI must run the awslocal queries: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def enriched_samples(pipeline_endpoint: str) -> Iterator[tuple[str, TicketStore]]:
    """GIVEN the seed's stack (the names the docs use), new, holding the enriched sample tickets
    and one reject; deleted afterwards, so other modules using those names start clean (a
    purge instead would hit SQS's one PurgeQueue a minute)."""
    from ticketlens.deploy.stack import delete, deploy
    from ticketlens.generator import object_key
    from ticketlens.handlers.enrich import lambda_handler, reset_runtime
    from ticketlens.runner.sqs import for_stack
    from ticketlens.schemas import RawTicket, parse_ticket
    from ticketlens.settings import get_settings

    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"AWS_ENDPOINT_URL": pipeline_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        reset_runtime()
        settings = get_settings()
        delete(settings)  # another module may have left data under the seed's names
        stack = deploy(settings)
        store = TicketStore(settings)
        lines = (ROOT / "samples" / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
        samples = [parse_ticket(line, "sample") for line in lines if line.strip()]
        for ticket in samples:
            assert isinstance(ticket, RawTicket)
            store.put_raw(object_key(ticket), ticket.model_dump_json(exclude_none=True))
        store.put_raw(MALFORMED_KEY, b'{"ticket_id": "BROKEN", "body": ')
        runner = for_stack(stack, settings, handler=lambda_handler, idle_wait_s=1)
        done = run_runner_until(
            runner, lambda: store.count_items() >= len(samples) and store.get_rejected(MALFORMED_KEY) is not None,
            timeout_s=120,
        )
        assert done, f"{store.count_items()} of {len(samples)} enriched; runner {runner.stats}"
        yield pipeline_endpoint, store
        delete(settings)
    get_settings.cache_clear()
    reset_runtime()


def test_the_documented_awslocal_queries_work_as_written(enriched_samples) -> None:
    # GIVEN the docs' block, and awslocal pointed at this emulator the way LocalStack users set it
    endpoint, store = enriched_samples
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "PATH": f"{awslocal_dir()}{os.pathsep}{os.environ['PATH']}",
        "LOCALSTACK_HOST": endpoint.removeprefix("http://"),
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        "DISABLE_DEPRECATION_NOTICE": "1",
    }

    # WHEN the block runs as written, stopping at the first command that fails
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", awslocal_block()], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)

    # THEN every command succeeded and printed what the store holds
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    critical = [item["ticket_id"] for item in store.urgent(100) if item["urgency"] == "critical"]
    negative = [item["ticket_id"] for item in store.by_sentiment("NEGATIVE", 100)]
    assert critical and negative
    assert [t for t in critical + negative if t not in out] == []
    # the full record of TKT-1001 from the enriched bucket, pretty-printed by json.tool
    assert out.index('"embedding": [', out.index('"ticket_id": "TKT-1001"'))
    # both queues' depths, the table's item count, the reject's key
    assert out.count('"ApproximateNumberOfMessages"') == 2
    count = re.search(r'"Count": (\d+)', out)
    assert count and int(count.group(1)) == store.count_items()
    assert f"rejects/objects/{MALFORMED_KEY}" in out
