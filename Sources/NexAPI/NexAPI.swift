// NexAPI
