"""Training data: the teacher (a local GGUF or an endpoint), prompts, the checks a pair
must pass, generation, conflicts between pairs, changed documents (versions), and dataset
formats for other tools.
"""
