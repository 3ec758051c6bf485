"""The architecture diagram (docs/architecture.md) is generated from the synthesized stack and kept current."""

from tools.diagram import BEGIN, END, PAGE, STACK, current_block, render



def test_diagram_matches_the_synthesized_stack(stacks):
    assert current_block(PAGE.read_text()) == render(stacks[STACK]), "stale: run `make diagram`"


def test_diagram_draws_tiers_resources_and_references(stacks):
    block = render(stacks[STACK])
    assert block.startswith(BEGIN + "\n```mermaid\nflowchart LR") and block.endswith("```\n" + END)
    assert '  subgraph network["network"]' in block and '  subgraph data["data"]' in block
    assert "delivery" not in block, "the CI identities live in the bootstrap stack"
    assert '    network__vpc["vpc<br/><small>compute_network</small>"]' in block
    assert "  network__run_subnet --> network__vpc" in block
    assert "--> apis__" not in block, "arrows to enabled APIs are left out"


def test_make_diagram_reads_the_stacks_folder_synthesis_returns(synth_dir, monkeypatch, capsys):
    """`make diagram --check` end to end, with this run's synthesis standing in for a fresh one."""
    import tools.diagram

    monkeypatch.setattr(tools.diagram, "synthesize", lambda project, outdir: synth_dir / "stacks")
    assert tools.diagram.main(["--check"]) == 0
