"""Mirroring: what happens to earlier messages shows on both sides (README, "What is
mirrored").

``customer``: a customer's reactions, quote replies, edits and deletes shown on the posts
they refer to (``relay.inbound``). ``agent``: agents' reactions on customer lines sent as
the business's reaction (``relay.reaction``). ``outbound``: what an agent's message carries
beyond its text (the customer message it answers, reply buttons). ``buttons``: ``!buttons``
checked against WhatsApp's limits. ``emoji``: whether a reaction is one emoji.
"""
