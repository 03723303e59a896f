"""The planner: its JSON API, the /planner page, the CLI. Imports layers, geo, web's top level and web.pages."""
