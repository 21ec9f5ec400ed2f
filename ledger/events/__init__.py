"""Events out of the books: the pull feed, balance monitors, webhooks and their delivery."""
