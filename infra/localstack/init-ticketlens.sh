#!/usr/bin/env bash
# Create ticketlens' resources on LocalStack and upload the sample tickets.
# The equivalent of the seed's `make setup && make seed`, driven by template.yaml.
#
#   infra/localstack/init-ticketlens.sh            # LocalStack on http://localhost:4566 (make localstack)
#   AWS_ENDPOINT_URL=http://host:4566 infra/localstack/init-ticketlens.sh
#
# Then run the enrichment worker against it:  ticket-processor
set -euo pipefail

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
cd "$(dirname "$0")/../.."

for _ in $(seq 1 60); do
  if curl -sf "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1; then
    break
  fi
  sleep 1
done

ticketlens setup        # deploy template.yaml (idempotent: an existing stack is reused)
ticketlens seed         # upload samples/tickets.jsonl to the raw bucket
ticketlens status
