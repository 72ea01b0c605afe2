"""The interpreter (variables, control flow, ErrorMode) and, later, the data model."""
