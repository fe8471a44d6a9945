"""On-call alerts: SLA timers, the 24-hour window, business hours, operational alerts."""
