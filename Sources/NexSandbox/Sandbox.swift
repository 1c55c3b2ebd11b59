// Isolation backends for agents: see the Sandbox protocol.
