"""The demo behind `make demo`: a French shop, its customer file and a winter sale."""
