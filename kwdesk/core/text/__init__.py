"""Text as kwdesk reads it, without any model: sentences, blocks of a page, anchors
(entities, numbers, subjects), content words and fact matching (does an answer hold a
reference's key facts). Pure functions, used by import, generation, checks and grading.
"""
