"""Use cases around the loop: budgets, guards, accounts, reward versions, imports, X checks."""
