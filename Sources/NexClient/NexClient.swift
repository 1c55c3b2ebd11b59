// NexClient
