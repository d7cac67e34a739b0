"""Local stand-ins that speak the real wire formats (Anthropic, Voyage, a Cognito JWKS), so the
real SDKs are tested against them instead of patching our own code away."""
