"""The REST connector: connection settings now; transport, pagination and decoding build on them."""
