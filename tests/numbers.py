"""Phone numbers used across the suite; the log scan at session end looks for these."""

CUSTOMER = "4915112345678"
CUSTOMER_2 = "436641234567"
CUSTOMER_3 = "41791234567"
THIRD_PARTY = "4917612345678"

ALL = (CUSTOMER, CUSTOMER_2, CUSTOMER_3, THIRD_PARTY)
