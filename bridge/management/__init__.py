"""The management API: bridge API keys and tokens, registered Dify instances and apps, their store."""
