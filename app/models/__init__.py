"""Models: texts become L2-normalised float32 vectors (MiniLM through sentence-transformers or ONNX).

In: strings (passages, their sentences, questions). Out: numpy arrays, shape (n, dimension); the
model's `ModelSpec` (name, weights sha256, dimension) that the index records and checks.
"""
