"""Vision providers: Claude via the Anthropic API, Claude via Bedrock, and the offline analyzer."""
