"""The community web gallery: a server's delivered clips as pages, posters, videos and JSON."""
