"""Everything pulses and retros share for single-use links: tokens, claiming and emailing
links (an outbox), the one transaction of an anonymous submission and the sealing of what
it stores, writing the anonymous rows in the clear (shuffled, at close or publication),
the throttle, the errors and the link pages' guard. Neither feature's code."""
