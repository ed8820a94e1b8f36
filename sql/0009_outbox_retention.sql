-- Retention (worker job `retention`, `omnistock outbox purge`): done outbox rows are deleted in
-- bounded batches, oldest done_at first. Without this index each batch would scan the whole
-- table (mostly done rows) just to find its oldest ones. Partial: pending and dead rows, which
-- are never purged, are not in it. Idempotency keys already have idempotency_keys_created.
-- Built inside the migration's transaction (no CONCURRENTLY): it blocks writes to the outbox
-- while it builds, a few seconds per million rows; on a very large outbox, migrate in a quiet
-- hour.
CREATE INDEX outbox_done_at ON outbox (done_at) WHERE status = 'done';
