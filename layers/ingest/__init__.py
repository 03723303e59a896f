"""Reading, checking and exporting station files (CSV, GeoJSON, GeoPackage, Shapefile) and the planner's point sets. Imports geo and layers' top level."""
