"""Terminal rendering: consoles, tables, digits. Rendering never computes metrics."""
