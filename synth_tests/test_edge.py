"""The edge (production): load balancer chain, certificate, Cloud Armor rules and rate limit, CDN,
logging, the HTTP redirect, the frontend's ingress, and staging without any of it."""

from constructs.tiers.edge import LOG4J_EXPRESSION, OWASP_RULE_SETS
from synth_tests.helpers import api_function, only, ref, resources, run_service

EDGE_TYPES = ("google_compute_backend_service", "google_compute_global_forwarding_rule",
              "google_compute_managed_ssl_certificate", "google_compute_region_network_endpoint_group",
              "google_compute_security_policy", "google_compute_target_http_proxy",
              "google_compute_target_https_proxy", "google_compute_url_map")


def _address_of(stack, type_, body):
    (address,) = [a for a, b in resources(stack, type_).items() if b is body]
    return address


def _url_map(stack, name):
    (body,) = [b for b in resources(stack, "google_compute_url_map").values() if b["name"] == name]
    return body


def test_https_reaches_the_frontend_through_a_serverless_neg(production, configs):
    stack, config = production, configs["production"]
    address = resources(stack, "google_compute_global_address")["edge_address"]
    assert (address["address_type"], address["ip_version"]) == ("EXTERNAL", "IPV4")
    assert address["lifecycle"]["prevent_destroy"] is True
    rules = {b["port_range"]: b for b in resources(stack, "google_compute_global_forwarding_rule").values()}
    assert set(rules) == {"443", "80"}
    for rule in rules.values():
        assert rule["ip_address"] == ref("google_compute_global_address", "edge_address")
        assert rule["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    https = only(stack, "google_compute_target_https_proxy")
    assert rules["443"]["target"] == ref("google_compute_target_https_proxy", _address_of(
        stack, "google_compute_target_https_proxy", https))
    certificate = only(stack, "google_compute_managed_ssl_certificate")
    assert certificate["managed"]["domains"] == list(config.edge.domains)
    assert certificate["lifecycle"]["create_before_destroy"] is True
    assert https["ssl_certificates"] == [ref("google_compute_managed_ssl_certificate", _address_of(
        stack, "google_compute_managed_ssl_certificate", certificate))]
    site = _url_map(stack, "hexproperty-production-edge")
    assert https["url_map"] == ref("google_compute_url_map", _address_of(stack, "google_compute_url_map", site))
    backend = only(stack, "google_compute_backend_service")
    assert site["default_service"] == ref("google_compute_backend_service", _address_of(
        stack, "google_compute_backend_service", backend))
    assert (backend["load_balancing_scheme"], backend["protocol"]) == ("EXTERNAL_MANAGED", "HTTPS")
    neg = only(stack, "google_compute_region_network_endpoint_group")
    (group,) = backend["backend"]
    assert group["group"] == ref("google_compute_region_network_endpoint_group", _address_of(
        stack, "google_compute_region_network_endpoint_group", neg))
    assert neg["network_endpoint_type"] == "SERVERLESS" and neg["region"] == config.region
    assert neg["cloud_run"]["service"].startswith("${google_cloud_run_v2_service.frontend_service")


def test_http_only_redirects_to_https(production):
    proxy = only(production, "google_compute_target_http_proxy")
    redirect = _url_map(production, "hexproperty-production-edge-redirect")
    assert proxy["url_map"] == ref("google_compute_url_map", _address_of(production, "google_compute_url_map", redirect))
    assert redirect["default_url_redirect"] == {"https_redirect": True, "strip_query": False,
                                                "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT"}
    assert "default_service" not in redirect


def test_cdn_caches_static_assets_only_and_requests_are_logged(production, configs):
    backend = only(production, "google_compute_backend_service")
    assert backend["enable_cdn"] is True
    assert backend["cdn_policy"]["cache_mode"] == "CACHE_ALL_STATIC"
    assert backend["cdn_policy"]["default_ttl"] == configs["production"].edge.cdn_default_ttl_seconds
    assert backend["log_config"] == {"enable": True, "sample_rate": configs["production"].edge.log_sample_rate}


def test_cloud_armor_applies_the_owasp_rules_log4j_and_a_rate_limit_with_a_ban(production, configs):
    edge = configs["production"].edge
    policy = only(production, "google_compute_security_policy")
    backend = only(production, "google_compute_backend_service")
    assert backend["security_policy"] == ref("google_compute_security_policy", _address_of(
        production, "google_compute_security_policy", policy))
    rules = {rule["priority"]: rule for rule in policy["rule"]}
    assert len(rules) == len(policy["rule"]), "priorities are unique"
    assert not any(rule["preview"] for rule in rules.values())
    expressions = [r["match"]["expr"]["expression"] for r in rules.values() if "expr" in r["match"]]
    for rule_set in OWASP_RULE_SETS:
        assert f"evaluatePreconfiguredWaf('{rule_set}-v33-stable', {{'sensitivity': {edge.waf_sensitivity}}})" in expressions
    assert LOG4J_EXPRESSION in expressions
    assert all(r["action"] == "deny(403)" for r in rules.values() if "expr" in r["match"])
    (rate,) = [r for r in rules.values() if r["action"] == "rate_based_ban"]
    options = rate["rate_limit_options"]
    assert (options["enforce_on_key"], options["exceed_action"]) == ("IP", "deny(429)")
    assert options["rate_limit_threshold"] == {"count": edge.rate_limit_requests,
                                               "interval_sec": edge.rate_limit_interval_seconds}
    assert options["ban_threshold"]["count"] == 2 * edge.rate_limit_requests
    assert options["ban_duration_sec"] == edge.ban_seconds
    assert rate["priority"] > max(r["priority"] for r in rules.values() if "expr" in r["match"])
    default = rules[2147483647]
    assert (default["action"], default["match"]["config"]["src_ip_ranges"]) == ("allow", ["*"])


def test_the_frontend_answers_the_load_balancer_only_and_the_outputs_say_where_dns_points(production):
    assert run_service(production, "hexproperty-production-frontend")["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    outputs = production["output"]
    assert outputs["edge-address"]["value"] == ref("google_compute_global_address", "edge_address", "address")
    assert outputs["frontend-url"]["value"] == "https://hexproperty.example"


def test_staging_has_no_edge(staging, configs):
    assert configs["staging"].edge.enabled is False
    assert not [t for t in EDGE_TYPES if t in staging["resource"]]
    assert "edge-address" not in staging["output"]


def test_the_api_answers_the_vpc_only_behind_the_edge_and_the_smoke_tests_skip_it(production, staging):
    """Only the frontend calls the API, server side through its Direct VPC egress (all traffic)."""
    assert api_function(production)["service_config"]["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    assert production["output"]["smoke-api-url"]["value"] == ""
    assert api_function(staging)["service_config"]["ingress_settings"] == "ALLOW_ALL"
    assert staging["output"]["smoke-api-url"]["value"].startswith("${google_cloudfunctions2_function.")
