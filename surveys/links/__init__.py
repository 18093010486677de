"""Everything pulses and retros share for single-use links: tokens, claiming and emailing
links (an outbox), the one transaction of an anonymous submission, the shuffle-and-rewrite
at close, the throttle, the errors and the link pages' guard. Neither feature's code."""
