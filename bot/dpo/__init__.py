"""The data-protection officer's tools: one person's export, the record of processing."""
