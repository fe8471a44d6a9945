"""WhatsApp providers: the Meta Cloud API (also spoken by the sandbox)."""
