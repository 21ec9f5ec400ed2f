"""Who may act on a community's books: principals, scopes and credentials."""
