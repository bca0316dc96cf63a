"""Run ticketlens' serverless pipeline on this machine: an embedded AWS emulator, the
template deployed to it, and a Lambda-like SQS event-source runner."""
