"""Treasurer exports of the journal: Beancount, hledger and CSV writers (pure generators of
text) and the streaming export that feeds them from one read snapshot."""
