"""Offline monthly cost estimate of a synthesized stack (`make cost`, tools/cost.py).

Reads Terraform JSON (cdktf.out/stacks/<env>/cdk.tf.json or a snapshot without cdktf's `//`
metadata), the environment file's `load_profile`, and the unit prices in pricing/prices.yaml.
It never imports cdktf or the provider: an estimate takes well under a second.

- prices.py   the price file, and which prices each line used
- stack.py    reading resources out of the JSON: tiers, references, CPU and memory quantities
- rules.py    one pricing rule per resource type: idle and under-load cost of one resource
- estimate.py an environment's lines, tier subtotals, totals, and the difference of two stacks
- report.py   the terminal table, the JSON document and the block of docs/cost.md
"""
