// The agent: see AgentProtocol.swift in NexAPI for the protocol it speaks.
