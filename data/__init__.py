"""The bundled sample data, the shipped gazetteer, and the scripts that make them."""
