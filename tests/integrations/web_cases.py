"""What the web middleware tests (Starlette and Django) share: the route flag they serve,
keyed on the conversation the request names."""

from __future__ import annotations

FLAGS = """\
version: 1
flags:
  answer_route:
    default: control
    variations:
      control: {modelRoute: model_a}
      candidate: {modelRoute: model_b}
    assignment: {unit: conversation, key: conversationId}
    split: {control: 50, candidate: 50}
"""
