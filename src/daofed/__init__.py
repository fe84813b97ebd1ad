"""daofed: federated learning governed by a DAO on an Ethereum chain."""

__version__ = "0.1.0"
