\set a random(2, :accounts + 1)
SELECT balance FROM b_accounts WHERE id = :a;
