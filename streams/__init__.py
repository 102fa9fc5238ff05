"""Processing: pure processors (no Faust import) and the thin Faust bindings around them."""
