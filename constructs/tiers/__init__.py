"""The tiers of the seed, one construct each: frontend, API, microservices, data, events, monitoring
(with error tracking), and the parts only one tier uses (the data tier's auto-pause and backup copy,
the monitoring dashboard). A tier imports constructs/shared/, never the stack or another tier:
constructs/stack.py hands each tier what it needs from the others."""
