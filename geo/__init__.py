"""Pure geospatial functions: coordinate systems, distances, opening hours, navigation links."""
