"""Park pages, QR codes and posters, the parks and reports API, the scan buffer. Imports layers, geo, web's top level and web.pages."""
