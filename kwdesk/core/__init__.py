"""The Qt-free core: workspace, import, generation, training, export, evaluation, chat.

Heavy libraries (torch, transformers, peft, llama_cpp, pymupdf) are imported inside the
functions that need them so that `kwdesk --help` and the window open fast.
"""
