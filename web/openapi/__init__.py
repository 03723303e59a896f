"""/openapi.json and its parts. Imports layers, geo, web's top level and the faces it documents (web.api, web.parks, web.planner)."""
