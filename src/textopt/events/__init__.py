"""Events: what happened around a contact (an order shipped, an appointment booked)."""
