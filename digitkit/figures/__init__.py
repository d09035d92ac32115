"""Statistical figures as PNG bytes, drawn with seaborn on one theme (``figures.theme``).

Plain arrays in, PNG bytes out: no TensorFlow, no display (matplotlib's Agg backend), no
digitkit object. ``report`` embeds them in its HTML and Markdown, ``fit`` writes some of
them into TensorBoard, so this room sits low in the layers (docs/architecture.md).
"""
