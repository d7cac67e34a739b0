"""The chat agent: a LangGraph graph (graph.py) over its state, tools, prompts and models."""
