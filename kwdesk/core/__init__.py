"""The Qt-free core, one package per stage of the flow, each importing only those below it
(enforced by import-linter, see pyproject.toml and docs/ARCHITECTURE.md):

    app         settings, the teacher from settings, flows that chain stages, doctor
    evaluation  held-out accuracy and forgetting, reports
    chat        the chat engine and its jobs
    export      merge, GGUF, quantize, verify, adapters, model cards, publishing
    train       presets, replay, records, the training job and plan, bundles
    data        teacher, prompts, checks, generation, conflicts, versions, formats
    ingest      importer, PDF and text reading, chunking
    models      model files, base models, llama.cpp loading, GGUF conversion
    text        sentences, blocks, anchors, fact matching
    store       the workspace and the SQL of every table
    base        jobs, processes, locks, files, errors, paths, logging, network policy

Heavy libraries (torch, transformers, peft, llama_cpp, pymupdf) are imported inside the
functions that need them so that `kwdesk --help` and the window open fast.
"""
