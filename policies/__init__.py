"""The synth-time policy pack (rules, Aspect, suppressions, report)."""
