"""A trained run into files a user takes away: merge, GGUF and quantization, verification
against the merged model, the LoRA adapter as a GGUF adapter, the model card, Ollama and
publishing to other tools.
"""
