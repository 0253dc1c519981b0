"""kwdesk: train the knowledge in your documents into a small local language model."""

__version__ = "0.1.0"
