// NexCLI
