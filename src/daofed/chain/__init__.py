"""Everything daofed does on the chain: compiled contracts, nodes, the Federation wrapper."""
