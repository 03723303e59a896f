"""OGC API - Features under /ogc: routes, its OpenAPI document, extents. Imports layers, geo, web's top level and web.pages (its HTML pages)."""
