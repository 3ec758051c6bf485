"""The parts the tiers share: enabled APIs, the network, the Cloud Run service, runtime identities,
secrets, source archives, notices, and the protection of stateful resources. They import no tier."""
