"""The time bank: exchanges of hours between members, and what a member sees of them."""
