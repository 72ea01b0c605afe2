"""The front end: source text -> raw statements -> block tree -> expanded text -> AST nodes."""
