"""The built-in model zoo: five classic MNIST models, one module each.

They register through digitkit's own ``digitkit.models`` entry points, exactly as a
third-party plugin does; nothing here is special-cased by the registry.
"""
