"""Approved WhatsApp message templates: the catalogue, ``!templates`` / ``!template``, and
the rules for sending one (``bot.templates.sending``).

After the 24-hour customer service window only approved templates reach a customer
(``docs``: whatsapp-cloud-api §8). The catalogue is read from Meta
(``GET /{waba-id}/message_templates``), kept in the store, and every send is checked
against it before any request, so an agent learns of a wrong name or parameter count in the
thread at once instead of from a failed delivery.
"""
