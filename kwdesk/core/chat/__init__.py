"""Chatting with a model: the engine (llama.cpp, adapters on a shared base, answers with
sources) and the jobs that load a model and ask it in a worker.
"""
