"""What the heads share: the dense head (built and trained in Keras, run in NumPy), BILOU decoding."""
