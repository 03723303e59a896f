"""The JSON API /api/v1: stations, data (import/export, its CLI, the export cache), history, geocode. Imports layers, geo and web's top level."""
