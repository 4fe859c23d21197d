"""The `numport` command's composition root: it wires services, sandbox and local launcher, so it lives above them."""
