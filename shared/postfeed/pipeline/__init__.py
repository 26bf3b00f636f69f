"""Use cases: what one S3 change does to the table (ingest) and what table changes do to feeds (rebuild).

They take their adapters as arguments; the Lambda handlers and the local stack wire them."""
