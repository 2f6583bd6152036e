"""Cases: processing of inbound mail, the case lifecycle, review actions, the outbox."""
