"""Delivery of notifications: the live feed's in-process broker, the outside providers
(SMS, WeChat) behind one protocol, and the recipients of a notification."""
