"""The batch writer: buffering, retries, the durable spool."""
