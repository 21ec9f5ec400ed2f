-- Every transfer credits the community fund (account 1), locked last (highest contention).
\set a random(2, :accounts + 1)
\set amt random(1, 100)
\set neg -1 * :amt
BEGIN;
INSERT INTO b_entries (idempotency_key) VALUES (gen_random_uuid()) RETURNING id AS entry \gset
INSERT INTO b_postings VALUES (:entry, :a, :amt), (:entry, 1, :neg);
UPDATE b_accounts SET balance = balance + :amt WHERE id = :a AND balance + :amt >= balance_min;
UPDATE b_accounts SET balance = balance - :amt WHERE id = 1 AND balance - :amt >= balance_min;
COMMIT;
