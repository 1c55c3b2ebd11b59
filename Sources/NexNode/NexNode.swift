// NexNode
