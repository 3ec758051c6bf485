"""The edge: the front door users reach (docs/decisions/edge.md).

A global external Application Load Balancer (EXTERNAL_MANAGED) on one global address:
- HTTPS on 443 with a Google-managed certificate for `edge.domains`, to a backend service whose
  serverless NEG is the frontend's Cloud Run service; Cloud CDN caches its static assets.
- HTTP on 80 answers with a redirect to HTTPS, nothing else.
- Cloud Armor on the backend service: a deny list, an allow list, Google's preconfigured WAF
  rules for the OWASP classes at `edge.waf_sensitivity`, the Log4j rule, and a per-client rate
  limit that bans a client over twice the limit.
- The backend service logs `edge.log_sample_rate` of the requests.
DNS is outside the stack: the `edge-address` output is what each domain's A record points at.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs.google import (
    compute_backend_service as backend,
    compute_global_address,
    compute_global_forwarding_rule,
    compute_managed_ssl_certificate,
    compute_region_network_endpoint_group,
    compute_security_policy as armor,
    compute_target_http_proxy,
    compute_target_https_proxy,
    compute_url_map,
)
from constructs.shared.protection import keep
from constructs.shared.sites import place
from environments.config import EnvironmentConfig

if TYPE_CHECKING:
    from constructs.shared.apis import Apis

TIER = "edge"
# Google's preconfigured WAF rule sets for the OWASP Top 10 classes (ModSecurity CRS 3.3).
OWASP_RULE_SETS = ("sqli", "xss", "lfi", "rfi", "rce", "methodenforcement", "scannerdetection", "protocolattack",
                   "sessionfixation")
# Exactly this expression: CVE-2021-44228 (Log4j) has no sensitivity levels.
LOG4J_EXPRESSION = "evaluatePreconfiguredWaf('cve-canary')"
DEFAULT_RULE_PRIORITY = 2147483647
DENY_PRIORITY, ALLOW_PRIORITY, WAF_PRIORITY, RATE_PRIORITY = 100, 200, 1000, 2000
BAN_FACTOR = 2


class Edge(Construct):
    def __init__(self, scope: Construct, id_: str, *, config: EnvironmentConfig, apis: "Apis", frontend_service: str):
        super().__init__(scope, id_)
        edge, project = config.edge, config.project_id
        compute = apis.enable("compute.googleapis.com")
        labels = config.labels(TIER, "load-balancer")
        self.address = compute_global_address.ComputeGlobalAddress(
            self, "address", project=project, name=config.resource_name("edge"), address_type="EXTERNAL",
            ip_version="IPV4", description="Users' DNS records point here (A record of every edge domain)",
            labels=labels, depends_on=[compute])
        keep(self.address, config, "edge_address")

        neg = compute_region_network_endpoint_group.ComputeRegionNetworkEndpointGroup(
            self, "frontend-neg", project=project, region=config.active_region, name=config.resource_name("frontend-neg"),
            network_endpoint_type="SERVERLESS",
            cloud_run=compute_region_network_endpoint_group.ComputeRegionNetworkEndpointGroupCloudRun(
                service=frontend_service),
            depends_on=[compute])
        # The frontend runs in the active region; after a failover the backend points at the DR region's NEG.
        place(neg, config)
        policy = self._armor(config, compute)
        service = backend.ComputeBackendService(
            self, "frontend-backend", project=project, name=config.resource_name("frontend"),
            description="The frontend's Cloud Run service behind the edge",
            load_balancing_scheme="EXTERNAL_MANAGED", protocol="HTTPS",
            # A serverless NEG has no capacity settings: the zeros are what the API reports back,
            # written out so a plan does not see the computed values as a change of the set.
            backend=[backend.ComputeBackendServiceBackend(
                group=neg.id, max_connections=0, max_connections_per_endpoint=0, max_connections_per_instance=0,
                max_rate=0, max_rate_per_endpoint=0, max_rate_per_instance=0, max_utilization=0)],
            security_policy=policy.id,
            enable_cdn=True,
            # Static assets only (by content type): pages carry per-user data and are never cached.
            cdn_policy=backend.ComputeBackendServiceCdnPolicy(
                cache_mode="CACHE_ALL_STATIC", default_ttl=edge.cdn_default_ttl_seconds,
                client_ttl=edge.cdn_default_ttl_seconds, max_ttl=max(edge.cdn_default_ttl_seconds, 86400),
                serve_while_stale=86400,
                cache_key_policy=backend.ComputeBackendServiceCdnPolicyCacheKeyPolicy(
                    include_host=True, include_protocol=True, include_query_string=True)),
            log_config=backend.ComputeBackendServiceLogConfig(enable=True, sample_rate=edge.log_sample_rate),
            depends_on=[compute])

        # The domain list cannot change in place: a name of its own per list lets the new
        # certificate be created before the proxy lets go of the old one.
        domains_digest = hashlib.sha256(",".join(edge.domains).encode()).hexdigest()[:8]
        certificate = compute_managed_ssl_certificate.ComputeManagedSslCertificate(
            self, "certificate", project=project, name=config.resource_name(f"edge-{domains_digest}"),
            managed=compute_managed_ssl_certificate.ComputeManagedSslCertificateManaged(domains=list(edge.domains)),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True), depends_on=[compute])
        site = compute_url_map.ComputeUrlMap(
            self, "url-map", project=project, name=config.resource_name("edge"), default_service=service.id,
            description="Every host and path to the frontend")
        https = compute_target_https_proxy.ComputeTargetHttpsProxy(
            self, "https-proxy", project=project, name=config.resource_name("edge-https"), url_map=site.id,
            ssl_certificates=[certificate.id])
        compute_global_forwarding_rule.ComputeGlobalForwardingRule(
            self, "https-rule", project=project, name=config.resource_name("edge-https"),
            load_balancing_scheme="EXTERNAL_MANAGED", ip_address=self.address.id, ip_protocol="TCP",
            port_range="443", target=https.id, labels=labels)

        redirect = compute_url_map.ComputeUrlMap(
            self, "redirect-map", project=project, name=config.resource_name("edge-redirect"),
            description="HTTP to HTTPS, same host and path",
            default_url_redirect=compute_url_map.ComputeUrlMapDefaultUrlRedirect(
                https_redirect=True, strip_query=False, redirect_response_code="MOVED_PERMANENTLY_DEFAULT"))
        http = compute_target_http_proxy.ComputeTargetHttpProxy(
            self, "http-proxy", project=project, name=config.resource_name("edge-http"), url_map=redirect.id)
        compute_global_forwarding_rule.ComputeGlobalForwardingRule(
            self, "http-rule", project=project, name=config.resource_name("edge-http"),
            load_balancing_scheme="EXTERNAL_MANAGED", ip_address=self.address.id, ip_protocol="TCP",
            port_range="80", target=http.id, labels=labels)

    def _armor(self, config: EnvironmentConfig, compute) -> armor.ComputeSecurityPolicy:
        edge = config.edge
        rules = [_rule(DEFAULT_RULE_PRIORITY, "allow", "Anything no rule above stopped", ranges=["*"])]
        if edge.denied_ips:
            rules.append(_rule(DENY_PRIORITY, "deny(403)", "edge.denied_ips", ranges=list(edge.denied_ips)))
        if edge.allowed_ips:
            rules.append(_rule(ALLOW_PRIORITY, "allow", "edge.allowed_ips: past the WAF and the rate limit",
                               ranges=list(edge.allowed_ips)))
        sensitivity = edge.waf_sensitivity
        for offset, rule_set in enumerate(OWASP_RULE_SETS):
            rules.append(_rule(
                WAF_PRIORITY + offset, "deny(403)", f"OWASP: {rule_set} at sensitivity {sensitivity}",
                expression=f"evaluatePreconfiguredWaf('{rule_set}-v33-stable', {{'sensitivity': {sensitivity}}})"))
        rules.append(_rule(WAF_PRIORITY + len(OWASP_RULE_SETS), "deny(403)", "Log4j (CVE-2021-44228)",
                           expression=LOG4J_EXPRESSION))
        rules.append(armor.ComputeSecurityPolicyRule(
            priority=RATE_PRIORITY, action="rate_based_ban", preview=False,
            description=f"Over {edge.rate_limit_requests} requests per {edge.rate_limit_interval_seconds} s: 429; "
                        f"over {BAN_FACTOR}x that: banned {edge.ban_seconds} s",
            match=_ranges(["*"]),
            rate_limit_options=armor.ComputeSecurityPolicyRuleRateLimitOptions(
                conform_action="allow", exceed_action="deny(429)", enforce_on_key="IP",
                rate_limit_threshold=armor.ComputeSecurityPolicyRuleRateLimitOptionsRateLimitThreshold(
                    count=edge.rate_limit_requests, interval_sec=edge.rate_limit_interval_seconds),
                ban_threshold=armor.ComputeSecurityPolicyRuleRateLimitOptionsBanThreshold(
                    count=edge.rate_limit_requests * BAN_FACTOR, interval_sec=edge.rate_limit_interval_seconds),
                ban_duration_sec=edge.ban_seconds)))
        return armor.ComputeSecurityPolicy(
            self, "armor", project=config.project_id, name=config.resource_name("edge"), type="CLOUD_ARMOR",
            description="WAF, allow and deny lists and per-client rate limit of the edge",
            rule=sorted(rules, key=lambda rule: rule.priority), depends_on=[compute])


def _ranges(ranges: list[str]) -> armor.ComputeSecurityPolicyRuleMatch:
    return armor.ComputeSecurityPolicyRuleMatch(
        versioned_expr="SRC_IPS_V1", config=armor.ComputeSecurityPolicyRuleMatchConfig(src_ip_ranges=ranges))


def _rule(priority: int, action: str, description: str, *, ranges: list[str] | None = None,
          expression: str | None = None) -> armor.ComputeSecurityPolicyRule:
    match = _ranges(ranges) if ranges else armor.ComputeSecurityPolicyRuleMatch(
        expr=armor.ComputeSecurityPolicyRuleMatchExpr(expression=expression))
    # preview is computed: written out (enforced) so a plan does not see it as a change of the rule set.
    return armor.ComputeSecurityPolicyRule(priority=priority, action=action, description=description, match=match,
                                           preview=False)
