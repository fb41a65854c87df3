"""The service's configuration: typed settings read from the environment.

A leaf package: it imports nothing of the project, so every layer may import it.
"""
