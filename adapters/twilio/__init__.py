"""Twilio's WhatsApp API as a second provider (``[whatsapp] provider = "twilio"``)."""
