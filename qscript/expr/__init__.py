"""Expressions: values, columns, operators, functions and Qlik format codes."""
