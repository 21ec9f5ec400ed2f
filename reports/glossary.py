"""Every figure of the sustainability report, defined once; the report carries this list."""

from __future__ import annotations

from reports import classification
from reports.resilience import BURN_MONTHS
from reports.values import GlossaryItem

_TERMS = (
    ("Amounts", "Integers in the commodity's smallest unit: minutes for HOURS, cents for a money "
     "commodity of scale 2, a count for goods. Figures of different commodities are never added."),
    ("Ratios", "Decimals with four places (0.4231 = 42.31 %), rounded half-even; empty when the "
     "denominator is zero."),
    ("Actuals", "Posted entries dated in the period. Voided entries never count; pending entries "
     "are shown apart and not in any actual figure. A reversal is an ordinary posted entry on its "
     "own date, so an entry and its reversal in the same period cancel out."),
    ("Balance sheet", "Posted balances of asset, liability and equity accounts at the end of the "
     "period, in each account's normal direction; member time accounts form one line. Earnings "
     "are income minus expenses to date, so assets = liabilities + equity + earnings."),
    ("Income statement", "Income per business line and expenses per category for the period, "
     "the previous period of the same length and the same period a year earlier."),
    ("Business line", "The second segment of an income account's code (Income:Farm → Farm)."),
    ("Expense category", "The second segment of an expense account's code."),
    ("Cash flow", "For accounts under Assets:Cash and Assets:Bank: the opening balance, money in "
     "(debits), money out (credits) and the closing balance."),
    ("Budget vs actual", "Per line of each adopted budget version in force in the period: "
     "planned; actual (posted) and pending from the budget period's first day to the report's "
     "end, in the accounts' normal direction; variance = planned − actual; used = actual / "
     "planned."),
    ("Emergency fund", "The posted balance at the end of the period of the account the "
     "community's governance settings name as its emergency fund (else the account the chart "
     "designates, or Assets:EmergencyFund). Its target is the settings' amount, or their number "
     "of months times the monthly essential expenses below; without one: "
     f"{classification.NO_TARGET}."),
    ("Monthly essential expenses", f"Expenses of the {BURN_MONTHS} calendar months ending with "
     f"the period's last month, divided by {BURN_MONTHS}; essential expenses are "
     f"{classification.DESIGNATED_ESSENTIAL_BASIS}."),
    ("Months covered", "Emergency fund balance divided by the monthly essential expenses."),
    ("Restricted funds", "Money given for one purpose (a grant for the greenhouse), each held "
     "in its own account that can never go below zero: its balance at the period's end, what "
     "came in and what was spent during the period."),
    ("Earned income", "Income from the co-op's business lines and dues: all income but external "
     "support."),
    ("External support", "Income designated as grants, donations or crowdfunding (by the chart "
     "template, or under Income:Grants, Income:Donations and Income:Crowdfunding)."),
    ("Earned share of expenses", "Earned income divided by expenses of the same period."),
    ("External share of income", "External support divided by total income."),
    ("Trend", "The same figures for the preceding periods of the same length, oldest first."),
    ("Exchange", "A confirmed (posted) time-bank exchange dated in the period and not reversed "
     "by the period's end."),
    ("Hours exchanged", "Minutes of all exchanges in the period."),
    ("Members", "Members who joined by the end of the period or took part in an exchange by "
     "then."),
    ("Active members", "Members who gave or received in at least one exchange in the period."),
    ("Participation rate", "Active members divided by members."),
    ("New members", "Members who joined during the period."),
    ("Dormant members", "Members who took part in an exchange before the period but in none "
     "during it."),
    ("Reciprocal members", "Members who both gave and received in the period; the reciprocity "
     "rate divides them by the active members."),
    ("Gini coefficient of hours given", "Inequality of the minutes given by all members (those "
     "who gave nothing count as 0): 0 when all give the same, near 1 when one gives everything."),
    ("Top 10 % share", "The share of all minutes given that the top tenth of members (at least "
     "one, rounded up) gave."),
    ("Burnout watch", "Members who gave more than the burnout threshold in the period."),
    ("Support watch", "Members whose posted time balance at the period's end has used at least "
     "the support-watch share of their negative limit."),
    ("Hours by category", "Minutes and number of exchanges per service category."),
    ("Fingerprint", "SHA-256 of the ledger state the report was built from: entries per status, "
     "the latest entry id, the sums of all balance counters and the numbers of accounts and "
     "members. The same ledger state gives the same fingerprint."),
)  # fmt: skip

GLOSSARY = tuple(GlossaryItem(term, definition) for term, definition in _TERMS)
