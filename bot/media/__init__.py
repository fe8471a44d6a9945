"""Customer and agent files: limits, metadata stripping, file-name masking, private spooling.

Nothing here knows a platform: adapters stream bytes into :mod:`bot.media.spool`, and the
relay checks them with :mod:`bot.media.limits`, strips images with :mod:`bot.media.strip`
and masks names with :mod:`bot.media.names` before any file reaches a chat or WhatsApp.
"""
