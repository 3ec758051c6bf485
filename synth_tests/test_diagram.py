"""The architecture picture (README.md) and the resource inventory (docs/architecture.md) are
generated from the synthesized stacks, kept current, small enough to read, and valid Mermaid."""

import re
import subprocess

from tools.diagram import (BEGIN, END, INVENTORY_BEGIN, INVENTORY_END, INVENTORY_PAGE, README, ROOT, Architecture,
                           current_block, inventory, mermaid_text, render)
from tools.generated_blocks import current_block as block_between

NODE = re.compile(r'^\s+(\w+)\["', re.M)


def test_readme_picture_matches_the_synthesized_stacks(stacks, configs):
    assert current_block(README.read_text()) == render(stacks, configs), "stale: run `make diagram`"


def test_inventory_matches_the_synthesized_stacks(stacks):
    page = INVENTORY_PAGE.read_text()
    assert block_between(page, INVENTORY_BEGIN, INVENTORY_END) == inventory(stacks), "stale: run `make diagram`"


def test_picture_has_at_most_forty_nodes_each_runtime_store_and_topic(stacks, configs):
    block = render(stacks, configs)
    nodes = NODE.findall(mermaid_text(block))
    assert len(nodes) <= 40
    assert {"frontend", "api", "bookings", "notifications", "properties", "search"} <= set(nodes)
    assert {"postgres_primary", "postgres_replica", "redis", "topic_booking_events", "topic_property_events"} <= set(nodes)
    assert {"users", "sentry", "email"} <= set(nodes)


def test_edges_say_what_they_mean(stacks, configs):
    text = mermaid_text(render(stacks, configs))
    for edge in ("users -->|reaches| edge", "edge -->|routes to| frontend", "frontend -->|invokes| api", "bookings -->|invokes| notifications",
                 "api -->|reads/writes| postgres_primary", "properties -->|reads/writes| redis",
                 "bookings -->|produces| kafka", "search -->|consumes| kafka",
                 "postgres_primary -->|replicates to| postgres_replica", "monitoring -->|checks uptime| edge"):
        assert f"  {edge}\n" in text
    assert re.search(r"^  \w+ (-->|-\.->) \w+$", text, re.M) is None, "every edge is labelled"


def test_regions_group_the_primary_and_the_dr_copies(stacks, configs):
    production = configs["production"]
    text = mermaid_text(render(stacks, configs))
    dr = text[text.index(f'subgraph {production.dr_region.replace("-", "_")}['):]
    assert "postgres_replica[" in dr and "postgres_locked_copy_bucket[" in dr
    assert "postgres_primary[" not in dr


def test_staging_differences_are_said_below_the_picture(stacks, configs):
    block = render(stacks, configs)
    note = block[block.index("```\n\n") + 5:block.index(END)]
    assert note.startswith("**Staging** has the same shape, except:")
    assert "Kafka is one KRaft broker on Cloud Run (production: Managed Service for Apache Kafka)" in note
    assert "no PostgreSQL (Cloud SQL, replica)" in note and "postgres-autopause (Cloud Function)" in note


def test_mermaid_parses_the_picture(stacks, configs):
    """Mermaid's own parser (the pinned mermaid-cli's), run by the pinned Node."""
    node = ROOT / "node_modules" / ".bin" / "node"
    run = subprocess.run([str(node), str(ROOT / "tools" / "mermaid_parse.mjs")], input=mermaid_text(render(stacks, configs)),
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "flowchart-v2"


def test_a_picture_mermaid_cannot_parse_fails():
    node = ROOT / "node_modules" / ".bin" / "node"
    run = subprocess.run([str(node), str(ROOT / "tools" / "mermaid_parse.mjs")], input='flowchart LR\n  a -->|x b\n',
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 1 and "Parse error" in run.stderr


def test_make_diagram_reads_the_stacks_folder_synthesis_returns(synth_dir, monkeypatch):
    """`make diagram --check` end to end, with this run's synthesis standing in for a fresh one."""
    import tools.diagram

    monkeypatch.setattr(tools.diagram, "synthesize", lambda project, outdir: synth_dir / "stacks")
    assert tools.diagram.main(["--check"]) == 0


def test_the_architecture_groups_each_staging_runtime_too(stacks, configs):
    staging = Architecture(stacks["staging"], configs["staging"])
    assert ("postgres_autopause", "postgres_primary", "stops when idle") in {
        (e.source, e.target, e.label) for e in staging.edges}
    assert ("kafka", "kafka_log_bucket", "keeps its log in") in {(e.source, e.target, e.label) for e in staging.edges}
