-- One statement per round trip: random accounts, two balance updates in id order.
\set a random(2, :accounts + 1)
\set b 2 + (:a - 2 + random(1, :accounts - 1)) % :accounts
\set amt random(1, 100)
\set neg -1 * :amt
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set dlo case when :lo = :a then :amt else :neg end
BEGIN;
INSERT INTO b_entries (idempotency_key) VALUES (gen_random_uuid()) RETURNING id AS entry \gset
INSERT INTO b_postings VALUES (:entry, :a, :amt), (:entry, :b, :neg);
UPDATE b_accounts SET balance = balance + :dlo WHERE id = :lo AND balance + :dlo >= balance_min;
UPDATE b_accounts SET balance = balance - :dlo WHERE id = :hi AND balance - :dlo >= balance_min;
COMMIT;
