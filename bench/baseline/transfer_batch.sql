-- 100 transfers per transaction.
SELECT b_transfer_batch(100, :accounts);
