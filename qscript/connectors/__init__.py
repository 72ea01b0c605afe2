"""Connectors: named data connections (``LIB CONNECT TO``) and the sources behind them."""
