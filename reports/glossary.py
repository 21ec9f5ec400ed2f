"""Every figure of the sustainability report, defined once; the report carries this list."""

from __future__ import annotations

from reports import classification
from reports.resilience import BURN_MONTHS
from reports.values import GlossaryItem

_TERMS = (
    ("Amounts", "Hours are shown as hours and minutes (61 h 15 min), money with two decimals "
     "in the currency named above the table, goods as a count. Different currencies, hours and "
     "goods are never added together."),
    ("Percentages", "Rounded to one decimal place. A dash (–) means there was nothing to divide "
     "by, for example a share of expenses in a period without expenses."),
    ("Actuals", "What was really booked (posted) with a date in the period. Cancelled (voided) "
     "entries never count. Entries still waiting for approval (pending) are listed separately "
     "and left out of every total. A correction (reversal) is booked on its own date, so a "
     "mistake and its correction in the same period cancel out."),
    ("Balance sheet", "What the community owns (assets), owes (liabilities) and holds as its "
     "own (equity) on the last day of the period. Earnings are income minus expenses so far, "
     "so assets = liabilities + equity + earnings. Members' time accounts are one line."),
    ("Income statement", "Money earned and spent in the period, next to the previous period of "
     "the same length and the same period a year before, so that seasons compare fairly."),
    ("Business line", "A source of income, such as the farm shop or the workshops, shown by "
     "the name of its account; the money of its sub-accounts (eggs, vegetables) counts in it."),
    ("Expense category", "A kind of spending, such as food or rent, shown by the name of its "
     "account; the money of its sub-accounts counts in it."),
    ("Cash flow", "For the cash box and the bank: what was there at the start, what came in, "
     "what went out and what is left at the end."),
    ("Budget vs actual", "Each line of the budget the stewards adopted, set against what was "
     "really booked. Spending more than planned is over budget; earning less than planned is "
     "short of plan; both are marked in red. When the budget covers a longer stretch than the "
     "figures (a quarter's budget halfway through the quarter), the plan is reduced in "
     "proportion to the days covered, and the line says so."),
    ("Emergency fund", "The reserve set aside for hard times: its balance on the period's last "
     "day and its target, which is either a fixed amount or a number of months of essential "
     f"costs; without one the report says: {classification.NO_TARGET}."),
    ("Monthly essential expenses", f"What the community spends in an average month on what it "
     f"cannot do without, taken over the last {BURN_MONTHS} months; essential expenses are "
     f"{classification.DESIGNATED_ESSENTIAL_BASIS}."),
    ("Months covered", "How many months of essential costs the emergency fund would pay if "
     "all income stopped today (its months of runway). Three or more is a common aim."),
    ("Restricted funds", "Money given for one purpose only (a grant for the greenhouse), kept "
     "in its own account that can never go below zero: what came in, what was spent and what "
     "is left for that purpose."),
    ("Earned income", "Money the community earns itself (sales, services, dues): all income "
     "except grants and donations."),
    ("External support", "Grants, donations and crowdfunding: income the community did not "
     "earn and may not be able to count on next year."),
    ("Earned share of expenses", "How much of its spending the community pays from what it "
     "earns. 100 % or more means it could carry on without outside support."),
    ("External share of income", "How much of all income came from grants and donations."),
    ("Trend", "The same figures for the periods before, oldest first."),
    ("Exchange", "Help one member gave another, confirmed by the one who received it, dated in "
     "the period (and not cancelled since)."),
    ("Hours exchanged", "All the time given in confirmed exchanges in the period."),
    ("Members", "Everyone who had joined by the end of the period."),
    ("Active members", "Members who gave or received help at least once in the period."),
    ("Participation rate", "Active members as a share of all members."),
    ("New members", "Members who joined during the period."),
    ("Dormant members", "Members who took part before but not in this period: worth a friendly "
     "call."),
    ("Reciprocal members", "Members who both gave and received help in the period; a healthy "
     "time bank has many."),
    ("Gini coefficient of hours given", "How unevenly the giving is spread, from 0 (everyone "
     "gives the same) to nearly 1 (one person does everything). Above 0.5 a few people carry "
     "the time bank."),
    ("Top 10 % share", "The share of all time given by the busiest tenth of members."),
    ("Burnout watch", "Members who gave more than the burnout threshold in the period: thank "
     "them, and make sure they are not overdoing it."),
    ("Support watch", "Members who have used most of the time they may owe (their negative "
     "limit): they may need a hand finding ways to give back."),
    ("Hours by category", "Time given and number of exchanges per kind of help."),
    ("Fingerprint", "A code computed from the whole state of the books when the report was "
     "made. Two reports with the same fingerprint were made from exactly the same books."),
)  # fmt: skip

GLOSSARY = tuple(GlossaryItem(term, definition) for term, definition in _TERMS)
