"""The worker pages: routes, rendering, result cards and their order, hotlines, folium maps, tiles. Imports layers, geo and web's top level."""
