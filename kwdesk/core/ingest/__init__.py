"""Documents into the workspace: the importer (files, folders, duplicates, rejections),
PDF reading with OCR for scanned pages, text and Markdown, and chunking into passages.
"""
