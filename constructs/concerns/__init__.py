"""The cross-cutting concerns the stack adds beside the tiers: cost, compliance, delivery and CI
access, the image registry, the disaster-recovery drill."""
