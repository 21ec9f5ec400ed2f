-- The same transfer as one server-side function call.
\set a random(2, :accounts + 1)
\set b 2 + (:a - 2 + random(1, :accounts - 1)) % :accounts
\set amt random(1, 100)
SELECT b_transfer(:a, :b, :amt);
