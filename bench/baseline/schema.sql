-- The baseline: the same work as a Commons Ledger transfer, in raw SQL on a schema of the same
-- shape (an entry with a unique idempotency key, its postings, balance rows with a limit).
CREATE TABLE b_accounts (
    id bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0,
    balance_min bigint NOT NULL DEFAULT -1000000000000
);
CREATE TABLE b_entries (
    id bigserial PRIMARY KEY,
    idempotency_key uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE b_postings (
    entry_id bigint NOT NULL REFERENCES b_entries (id),
    account_id bigint NOT NULL REFERENCES b_accounts (id),
    amount bigint NOT NULL
);
CREATE INDEX b_postings_account ON b_postings (account_id, entry_id);

-- One transfer: the entry, its two postings, both balances moved in id order, refusing an
-- overdraft (the UPDATE finds no row when the balance would fall below the minimum).
CREATE FUNCTION b_transfer(debit bigint, credit bigint, amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    entry bigint;
    moved int;
BEGIN
    INSERT INTO b_entries (idempotency_key) VALUES (gen_random_uuid()) RETURNING id INTO entry;
    INSERT INTO b_postings VALUES (entry, debit, amount), (entry, credit, -amount);
    UPDATE b_accounts SET balance = balance + CASE WHEN id = debit THEN amount ELSE -amount END
     WHERE id IN (debit, credit)
       AND balance + CASE WHEN id = debit THEN amount ELSE -amount END >= balance_min;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> 2 THEN
        RAISE EXCEPTION 'limit exceeded';
    END IF;
    RETURN entry;
END $$;

-- A batch: n random transfers among accounts 2..n_accounts+1 in one transaction, every
-- touched balance row locked first in id order (no deadlock between concurrent batches).
CREATE FUNCTION b_transfer_batch(n int, n_accounts int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    pairs bigint[][];
    i int;
BEGIN
    SELECT array_agg(ARRAY[a, b]) INTO pairs FROM (
        SELECT 2 + floor(random() * n_accounts)::bigint AS a,
               2 + floor(random() * n_accounts)::bigint AS b
          FROM generate_series(1, n)
    ) drawn;
    PERFORM 1 FROM b_accounts
     WHERE id IN (SELECT unnest(pairs)) ORDER BY id FOR NO KEY UPDATE;
    FOR i IN 1 .. n LOOP
        IF pairs[i][1] <> pairs[i][2] THEN
            PERFORM b_transfer(pairs[i][1], pairs[i][2], 1);
        END IF;
    END LOOP;
END $$;
