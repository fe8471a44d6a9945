"""Transfer of conversations to the company's case systems, and the transfer ledger."""
