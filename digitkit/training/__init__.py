"""The pieces behind :func:`digitkit.train.fit`.

``data`` builds the resumable, seeded input pipeline; ``speed`` holds the CPU/GPU settings
that make training faster than a plain ``model.fit``; ``distribute`` picks devices and a
``tf.distribute`` strategy; ``state`` saves and restores the resumable training state;
``callbacks`` turns Keras batch events into progress, stop requests and NaN checks;
``progress`` is the interface a renderer implements.
"""
