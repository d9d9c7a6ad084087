"""The MCP lab's client side: client configurations to paste, and the SDK session `lab mcp` uses."""
