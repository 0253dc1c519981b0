"""Model files and runtimes: the bundled model, checks on model files, base models
(resolved and cached as safetensors folders), llama.cpp loading, HF -> GGUF conversion and
quantization, a base converted like an export, the chat format, which model a spec names,
and the lock that imports the heavy libraries.
"""
