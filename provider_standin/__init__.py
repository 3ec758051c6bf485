"""A stand-in for the google provider 6.50.0: Terraform validates, plans and applies our stacks offline."""
