"""Settings come from CHAT_-prefixed variables first, then unprefixed ones."""

from __future__ import annotations

import pytest

from collections_chat.settings import ENV_PREFIX, Settings
from collections_shared.settings import ConfigError, parse_settings


def test_defaults_run_offline_on_port_8005() -> None:
    """With an empty environment the service listens on 8005 with the local responder."""
    settings = parse_settings(Settings, {}, prefix=ENV_PREFIX)

    assert 8005 == settings.port
    assert "" == settings.anthropic_api_key
    assert "collections-chat" == settings.table
    assert 4 * 3600 == settings.session_ttl_seconds
    assert 3 == settings.max_tool_iterations


def test_prefixed_variables_win_over_shared_ones() -> None:
    """CHAT_ANTHROPIC_API_KEY and CHAT_SEARCH_URL beat ANTHROPIC_API_KEY and SEARCH_URL."""
    env = {
        "ANTHROPIC_API_KEY": "shared",
        "CHAT_ANTHROPIC_API_KEY": "chat-only",
        "SEARCH_URL": "http://search:8004",
        "CHAT_TABLE": "prod-chat",
    }

    settings = parse_settings(Settings, env, prefix=ENV_PREFIX)

    assert "chat-only" == settings.anthropic_api_key
    assert "http://search:8004" == settings.search_url
    assert "prod-chat" == settings.table


def test_message_cap_above_the_api_ceiling_is_a_configuration_error() -> None:
    """CHAT_MAX_MESSAGE_CHARS may lower the 4000-character ceiling, never raise it."""
    with pytest.raises(ConfigError, match="CHAT_MAX_MESSAGE_CHARS"):
        parse_settings(Settings, {"CHAT_MAX_MESSAGE_CHARS": "5000"}, prefix=ENV_PREFIX)
