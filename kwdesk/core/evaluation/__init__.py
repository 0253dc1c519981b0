"""Does the personal model know the documents and still talk? The evaluation job,
its result types, the report (HTML, SVG) and the general probe questions.
"""
